package io.loraflow.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.core.Configuration;
import io.loraflow.api.core.AuthSettings;
import io.loraflow.api.core.LimitSettings;
import io.loraflow.api.core.LinkSettings;
import io.loraflow.api.core.TemporalSettings;
import io.loraflow.api.core.TlsSettings;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;

/**
 * The service's configuration file (see {@code loraflow-server.yml} for the default, with every
 * {@code ${LORAFLOW_*:-default}}). Each concern is one immutable validated record; Dropwizard
 * validates the whole tree at startup and names the bad key.
 */
public class LoraflowConfiguration extends Configuration {

  @Valid @NotNull private TemporalSettings temporal;
  @Valid @NotNull private AuthSettings auth;
  @Valid @NotNull private LinkSettings links;
  @Valid @NotNull private LimitSettings limits = LimitSettings.defaults();
  @Valid @NotNull private TlsSettings tls = TlsSettings.none();

  @JsonProperty
  public TlsSettings getTls() {
    return tls;
  }

  @JsonProperty
  public void setTls(TlsSettings tls) {
    this.tls = tls == null ? TlsSettings.none() : tls;
  }

  @JsonProperty
  public LimitSettings getLimits() {
    return limits;
  }

  @JsonProperty
  public void setLimits(LimitSettings limits) {
    this.limits = limits == null ? LimitSettings.defaults() : limits;
  }

  @JsonProperty
  public TemporalSettings getTemporal() {
    return temporal;
  }

  @JsonProperty
  public void setTemporal(TemporalSettings temporal) {
    this.temporal = temporal;
  }

  @JsonProperty
  public AuthSettings getAuth() {
    return auth;
  }

  @JsonProperty
  public void setAuth(AuthSettings auth) {
    this.auth = auth;
  }

  @JsonProperty
  public LinkSettings getLinks() {
    return links;
  }

  @JsonProperty
  public void setLinks(LinkSettings links) {
    this.links = links;
  }
}
