package io.loraflow.api;

import io.dropwizard.configuration.ConfigurationSourceProvider;
import io.dropwizard.configuration.FileConfigurationSourceProvider;
import io.dropwizard.configuration.SubstitutingSourceProvider;
import io.dropwizard.core.Application;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.loraflow.api.auth.BearerTokenFilter;
import io.loraflow.api.core.ModelRegistry;
import io.loraflow.api.core.Retrainer;
import io.loraflow.api.core.RunService;
import io.loraflow.api.core.TemporalClients;
import io.loraflow.api.health.HttpHealthCheck;
import io.loraflow.api.health.TemporalHealthCheck;
import io.loraflow.api.resources.ErrorResponses;
import io.loraflow.api.resources.JsonErrorMapper;
import io.loraflow.api.resources.OpenApiResource;
import io.loraflow.api.resources.RetrainResource;
import io.loraflow.api.resources.RunsResource;
import io.loraflow.api.resources.ViolationMapper;
import io.loraflow.workflows.RunSpecJson;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.util.ArrayList;
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
    // unknown run-spec fields are errors at the API (a typo like "epoch" must not fall back to a
    // default silently); the records themselves stay lenient for Temporal's converter
    RunSpecJson.strict(bootstrap.getObjectMapper());
  }

  @Override
  public void run(LoraflowConfiguration config, Environment environment) {
    TemporalClients temporal = TemporalClients.connect(config.getTemporal());
    environment.lifecycle().manage(temporal);
    RunService runs =
        new RunService(
            temporal.workflows(),
            config.getLinks(),
            Clock.systemUTC(),
            java.time.Duration.ofMillis(config.getTemporal().queryTimeout().toMilliseconds()));
    Retrainer retrainer =
        new Retrainer(runs, temporal.schedules(), new ModelRegistry(config.getLinks().mlflow()));
    for (Object component :
        jerseyComponents(
            runs, retrainer, config.getAuth().token(), config.getTemporal().target())) {
      environment.jersey().register(component);
    }
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

  /** Resources, the auth filter and the error mappers (shared with the resource tests). */
  public static List<Object> jerseyComponents(
      RunService runs, Retrainer retrainer, String token, String temporalTarget) {
    List<Object> c = new ArrayList<>();
    c.add(new RunsResource(runs));
    c.add(new io.loraflow.api.resources.SweepsResource(io.loraflow.api.core.SweepService.of(runs)));
    c.add(new RetrainResource(retrainer));
    c.add(new OpenApiResource());
    c.add(new BearerTokenFilter(token));
    c.add(new ViolationMapper());
    c.add(new JsonErrorMapper());
    c.addAll(ErrorResponses.all(temporalTarget));
    return c;
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
