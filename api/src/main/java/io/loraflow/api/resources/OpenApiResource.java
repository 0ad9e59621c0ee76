package io.loraflow.api.resources;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The hand-written OpenAPI 3.1 document of this API (classpath {@value #RESOURCE}); {@code
 * OpenApiDocumentTest} keeps it in sync with the resources and records. Needs no token.
 */
@Path("/v1/openapi.json")
@io.loraflow.api.auth.RequiresScope(io.loraflow.api.auth.Scope.READ)
public final class OpenApiResource {

  public static final String RESOURCE = "/openapi/loraflow-v1.json";

  private final String document;

  public OpenApiResource() {
    this.document = load();
  }

  @GET
  @Produces(MediaType.APPLICATION_JSON)
  public String document() {
    return document;
  }

  /** The document as a tree (the request-body schemas {@code SchemaCheck} validates against). */
  public com.fasterxml.jackson.databind.JsonNode tree() {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(document);
    } catch (IOException e) {
      throw new UncheckedIOException("OpenAPI document " + RESOURCE + " is not JSON", e);
    }
  }

  public static String load() {
    try (InputStream in = OpenApiResource.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("OpenAPI document " + RESOURCE + " missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }
}
