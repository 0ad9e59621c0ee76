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
    return read(STRICT, json, RunSpec.class, "run spec").validate();
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
    return read(STRICT_SWEEPS, json, SweepSpec.class, "sweep spec");
  }

  /** One JSON object of {@code type}, never null; errors say {@code what} and the field. */
  private static <T> T read(ObjectMapper mapper, String json, Class<T> type, String what) {
    T value;
    try {
      value = mapper.readValue(json, type);
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException(
          "unknown "
              + what
              + " field '"
              + e.getPropertyName()
              + "' at "
              + e.getPathReference()
              + "; known fields: "
              + e.getKnownPropertyIds(),
          e);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(what + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (value == null) {
      throw new IllegalArgumentException(what + " is empty; expected a JSON object");
    }
    return value;
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
