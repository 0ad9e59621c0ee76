package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;

/**
 * Strict JSON reading of a {@link RunSpec} for front doors (REST API, CLI): unknown fields are
 * errors (a typo like "epoch" must not silently fall back to a default). Temporal's own converter
 * ignores unknown fields so that old workers accept newer inputs.
 */
public final class RunSpecJson {

  /**
   * Overrides the records' lenient {@code @JsonIgnoreProperties} (mix-ins win over annotations).
   */
  @JsonIgnoreProperties(ignoreUnknown = false)
  private abstract static class Strict {}

  private static final ObjectMapper STRICT = strict(new ObjectMapper());

  private RunSpecJson() {}

  /**
   * Makes {@code mapper} strict about run specs (unknown fields are errors) and returns it: the one
   * place that says what strict means, for this class and for the REST API's Dropwizard mapper.
   */
  public static ObjectMapper strict(ObjectMapper mapper) {
    return mapper
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .addMixIn(RunSpec.class, Strict.class)
        .addMixIn(TrainingSpec.class, Strict.class)
        .addMixIn(EvaluationSpec.class, Strict.class)
        .addMixIn(RegistrySpec.class, Strict.class);
  }

  /**
   * Parses and validates; throws {@link IllegalArgumentException} naming the unknown field, the
   * JSON error or every validation problem.
   */
  public static RunSpec parseStrict(String json) {
    RunSpec spec;
    try {
      spec = STRICT.readValue(json, RunSpec.class);
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException(
          "unknown run spec field '"
              + e.getPropertyName()
              + "' at "
              + e.getPathReference()
              + "; known fields: "
              + e.getKnownPropertyIds(),
          e);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "run spec is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (spec == null) {
      throw new IllegalArgumentException("run spec is empty; expected a JSON object");
    }
    return spec.validate();
  }

  private static final ObjectMapper STRICT_SWEEPS =
      strict(new ObjectMapper())
          .addMixIn(SweepSpec.class, Strict.class)
          .addMixIn(SweepGrid.class, Strict.class);

  /**
   * Parses a sweep spec strictly (unknown fields fail, in the sweep and in its base run spec);
   * throws {@link IllegalArgumentException} naming the unknown field or the JSON error. The caller
   * checks {@link SweepSpec#problems()}.
   */
  public static SweepSpec parseStrictSweep(String json) {
    SweepSpec spec;
    try {
      spec = STRICT_SWEEPS.readValue(json, SweepSpec.class);
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException(
          "unknown sweep spec field '"
              + e.getPropertyName()
              + "' at "
              + e.getPathReference()
              + "; known fields: "
              + e.getKnownPropertyIds(),
          e);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "sweep spec is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (spec == null) {
      throw new IllegalArgumentException("sweep spec is empty; expected a JSON object");
    }
    return spec;
  }

  /** Pretty JSON of a spec (with defaults filled in). */
  public static String write(RunSpec spec) {
    try {
      return STRICT.writerWithDefaultPrettyPrinter().writeValueAsString(spec);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write run spec", e);
    }
  }
}
