package io.loraflow.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dropwizard.configuration.ConfigurationSourceProvider;
import io.dropwizard.configuration.FileConfigurationSourceProvider;
import io.dropwizard.configuration.SubstitutingSourceProvider;
import io.dropwizard.core.Application;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.loraflow.api.auth.AdminAccessFilter;
import io.loraflow.api.auth.ApiKeyFilter;
import io.loraflow.api.auth.ApiKeyStore;
import io.loraflow.api.auth.ApiKeys;
import io.loraflow.api.auth.KeysCommand;
import io.loraflow.api.core.ApiServices;
import io.loraflow.api.core.AuthSettings;
import io.loraflow.api.core.RunService;
import io.loraflow.api.core.SchemaCheck;
import io.loraflow.api.core.TemporalClients;
import io.loraflow.api.health.HttpHealthCheck;
import io.loraflow.api.health.TemporalHealthCheck;
import io.loraflow.api.resources.AdaptersResource;
import io.loraflow.api.resources.CompareResource;
import io.loraflow.api.resources.ErrorResponses;
import io.loraflow.api.resources.GenericErrors;
import io.loraflow.api.resources.JsonErrorMapper;
import io.loraflow.api.resources.JsonErrorPages;
import io.loraflow.api.resources.OpenApiResource;
import io.loraflow.api.resources.RequestLimits;
import io.loraflow.api.resources.RetrainResource;
import io.loraflow.api.resources.RunsResource;
import io.loraflow.api.resources.SchedulesResource;
import io.loraflow.api.resources.StrictJsonBodies;
import io.loraflow.api.resources.ViolationMapper;
import io.loraflow.workflows.RunSpecJson;
import jakarta.servlet.DispatcherType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * The loraflow REST service. Everything is wired here by hand: Temporal clients, the run service,
 * resources, auth, error mappers and health checks.
 */
public class LoraflowApplication extends Application<LoraflowConfiguration> {

  /** Configuration used when {@code loraflow server} gets no file. */
  public static final String DEFAULT_CONFIG = "classpath:loraflow-server.yml";

  @Override
  public String getName() {
    return "loraflow";
  }

  @Override
  public void initialize(Bootstrap<LoraflowConfiguration> bootstrap) {
    bootstrap.setConfigurationSourceProvider(
        new SubstitutingSourceProvider(
            new ClasspathOrFileSourceProvider(),
            new StackEnvLookup(System.getenv()).substitutor()));
    apiMapper(bootstrap.getObjectMapper());
    bootstrap.addCommand(new KeysCommand());
  }

  @Override
  public void run(LoraflowConfiguration config, Environment environment) {
    // before the server is built from the connectors (after this method)
    ServerTls.apply(config.getServerFactory(), config.getTls(), environment.getObjectMapper());
    TemporalClients temporal = TemporalClients.connect(config.getTemporal());
    environment.lifecycle().manage(temporal);
    RunService runs =
        new RunService(
            temporal.workflows(),
            config.getLinks(),
            Clock.systemUTC(),
            java.time.Duration.ofMillis(config.getTemporal().queryTimeout().toMilliseconds()));
    ApiServices services =
        ApiServices.connect(
            runs, temporal.schedules(), config.getLinks().mlflow(), config.getLimits());
    ApiKeys keys = keys(config.getAuth());
    for (Object component : jerseyComponents(services, keys, config.getTemporal().target())) {
      environment.jersey().register(component);
    }
    JsonErrorPages errorPages = new JsonErrorPages();
    environment.getApplicationContext().setErrorHandler(errorPages);
    environment.getAdminContext().setErrorHandler(errorPages);
    environment
        .lifecycle()
        .addServerLifecycleListener(server -> server.setErrorHandler(errorPages));
    environment
        .admin()
        .addFilter("loraflow-admin-access", new AdminAccessFilter(keys))
        .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), true, "/*");
    environment
        .healthChecks()
        .register(
            "temporal",
            new TemporalHealthCheck(
                temporal.stubs(), config.getTemporal().target(), config.getTemporal().namespace()));
    environment
        .healthChecks()
        .register("minio", HttpHealthCheck.minio(config.getLinks().s3Endpoint()));
    environment
        .healthChecks()
        .register("mlflow", HttpHealthCheck.mlflow(config.getLinks().mlflow()));
  }

  /** The key file of the configuration (if any) and its bootstrap token (if any). */
  public static ApiKeys keys(AuthSettings auth) {
    ApiKeyStore store =
        auth.keyFile() == null ? null : new ApiKeyStore(Path.of(auth.keyFile()), Clock.systemUTC());
    return new ApiKeys(store, auth.token());
  }

  /** Resources, the auth filter and the error mappers (shared with the resource tests). */
  public static List<Object> jerseyComponents(
      ApiServices services, ApiKeys keys, String temporalTarget) {
    List<Object> c = new ArrayList<>();
    c.add(new RequestLimits(services.limits().maxBodyBytes()));
    c.add(new RunsResource(services.runs(), services.admission()));
    c.add(
        new io.loraflow.api.resources.SweepsResource(
            io.loraflow.api.core.SweepService.of(services.runs()), services.admission()));
    c.add(new RetrainResource(services.retrainer(), services.admission()));
    c.add(new AdaptersResource(services.adapters(), services.trials()));
    c.add(new CompareResource(services.comparer()));
    c.add(new SchedulesResource(services.schedules()));
    OpenApiResource openApi = new OpenApiResource();
    c.add(openApi);
    c.addAll(new StrictJsonBodies(new SchemaCheck(openApi.tree())).readers());
    c.add(new ApiKeyFilter(keys));
    c.add(new ViolationMapper());
    c.add(new JsonErrorMapper());
    c.addAll(ErrorResponses.all(temporalTarget));
    c.addAll(GenericErrors.all());
    return c;
  }

  /**
   * The API's mapper: unknown run-spec fields are errors (a typo like "epoch" must not fall back to
   * a default silently; the records themselves stay lenient for Temporal's converter), and
   * responses omit absent values instead of writing null (the OpenAPI document says so).
   */
  public static ObjectMapper apiMapper(ObjectMapper mapper) {
    return RunSpecJson.strict(mapper)
        .setSerializationInclusion(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL);
  }

  /** {@code classpath:x.yml} from the jar, anything else from the file system. */
  static final class ClasspathOrFileSourceProvider implements ConfigurationSourceProvider {
    private final FileConfigurationSourceProvider files = new FileConfigurationSourceProvider();

    @Override
    public InputStream open(String path) throws IOException {
      if (path.startsWith("classpath:")) {
        String resource = "/" + path.substring("classpath:".length()).replaceFirst("^/", "");
        InputStream in = LoraflowApplication.class.getResourceAsStream(resource);
        if (in == null) {
          throw new IOException("no configuration " + resource + " on the classpath");
        }
        return in;
      }
      return files.open(path);
    }
  }

  public static void main(String[] args) throws Exception {
    new LoraflowApplication().run(args);
  }
}
