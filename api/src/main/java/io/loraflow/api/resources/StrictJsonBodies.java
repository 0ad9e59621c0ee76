package io.loraflow.api.resources;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.loraflow.api.LoraflowApplication;
import io.loraflow.api.api.CancelRequest;
import io.loraflow.api.api.ErrorBody;
import io.loraflow.api.api.RetrainRequest;
import io.loraflow.api.core.InvalidBodyException;
import io.loraflow.api.core.SchemaCheck;
import io.loraflow.workflows.RunSpec;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.ext.MessageBodyReader;
import java.io.IOException;
import java.io.InputStream;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads the request bodies of this API strictly: the bytes (bounded by {@link RequestLimits}) are
 * parsed with duplicate keys rejected, checked against the body's schema in the served OpenAPI
 * document ({@link SchemaCheck}: every problem at once, field by field), and only then bound to the
 * record, so a body that binds is one the document allows. One small reader per body type (Jersey
 * picks the most specific reader over Dropwizard's generic Jackson one).
 */
public final class StrictJsonBodies {

  private final SchemaCheck schemas;
  private final ObjectMapper mapper;

  public StrictJsonBodies(SchemaCheck schemas) {
    this.schemas = schemas;
    this.mapper =
        LoraflowApplication.apiMapper(JsonMapper.builder().build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            // 9.0 for an integer passed the schema check (integral); 9.5 never gets here
            .enable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    this.mapper
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder().maxNestingDepth(32).maxNumberLength(64).build());
  }

  /** The readers to register. */
  public List<Object> readers() {
    return List.of(
        new RunSpecs(this),
        new Retrains(this),
        new Cancels(this),
        new Tries(this),
        new Sweeps(this));
  }

  /** Parses, checks against {@code schema}, binds; null for an empty body. */
  <T> T read(InputStream in, Class<T> type, String schema) throws IOException {
    byte[] bytes = in.readAllBytes();
    if (isBlank(bytes)) {
      return null;
    }
    JsonNode tree;
    try {
      tree = mapper.readTree(bytes);
    } catch (JsonParseException e) {
      throw new InvalidBodyException(syntax(e), List.of());
    } catch (JsonProcessingException e) {
      throw new InvalidBodyException(syntax(e), List.of());
    }
    List<ErrorBody.FieldError> problems = new ArrayList<>(schemas.check(tree, schema));
    if (!problems.isEmpty() && type == RunSpec.class) {
      problems.addAll(specProblemsBesides(tree, problems));
    }
    problems.sort(java.util.Comparator.comparing(ErrorBody.FieldError::field));
    if (!problems.isEmpty()) {
      throw new InvalidBodyException(
          problems.size() == 1
              ? "invalid request: " + sentence(problems.get(0))
              : "invalid request: " + problems.size() + " problems",
          problems);
    }
    try {
      return mapper.treeToValue(tree, type);
    } catch (JsonProcessingException e) {
      // the schema let it through but the record did not: a drift the OpenAPI tests should catch
      throw new InvalidBodyException(
          "request body does not fit "
              + schema
              + " ("
              + e.getOriginalMessage().split("\n")[0]
              + ")",
          List.of());
    }
  }

  /**
   * The run spec's own rules ({@link RunSpec#problems()}, e.g. a dataset URI's scheme) for the
   * fields the schema found nothing wrong with, when the body still binds: so one answer lists
   * every problem.
   */
  private List<ErrorBody.FieldError> specProblemsBesides(
      JsonNode tree, List<ErrorBody.FieldError> found) {
    Set<String> reported = new HashSet<>();
    found.forEach(f -> reported.add(f.field()));
    RunSpec spec;
    try {
      spec = mapper.treeToValue(tree, RunSpec.class);
    } catch (JsonProcessingException | RuntimeException e) {
      return List.of();
    }
    if (spec == null) {
      return List.of(); // a JSON null body: the schema's "must not be null" says it all
    }
    List<ErrorBody.FieldError> more = new ArrayList<>();
    for (String p : spec.problems()) {
      String field = io.loraflow.api.api.ValidRunSpec.Validator.fieldOf(p);
      if (!reported.contains(field)) {
        more.add(new ErrorBody.FieldError(field, p, null));
      } else {
        // the record's own sentence is more specific than the schema's ("unsupported scheme")
        for (int i = 0; i < found.size(); i++) {
          if (found.get(i).field().equals(field) && found.get(i).message().startsWith("must match")
              || found.get(i).field().equals(field)
                  && found.get(i).message().startsWith("must be a")) {
            found.set(i, new ErrorBody.FieldError(field, p, null));
          }
        }
      }
    }
    return more;
  }

  /** "field message", without doubling the field when the message already starts with it. */
  static String sentence(ErrorBody.FieldError e) {
    String m = e.message();
    return m.startsWith(e.field() + " ")
            || m.startsWith(e.field() + "'")
            || m.startsWith(e.field() + ".")
        ? m
        : e.field() + " " + m;
  }

  /** "request body is not valid JSON at line 3, column 7: ..." without parser internals. */
  static String syntax(JsonProcessingException e) {
    String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
    String what;
    if (original.startsWith("Duplicate field '")) {
      what = "duplicate key " + original.substring("Duplicate field ".length()).split("\n")[0];
    } else if (original.contains("end-of-input") || original.contains("EOF")) {
      what = "the body ends before the JSON value does";
    } else if (original.contains("Trailing token")) {
      what = "there is more after the JSON value";
    } else if (original.contains("nesting depth")) {
      what = "nested deeper than 32 levels";
    } else if (original.contains("Number value length") || original.contains("Number length")) {
      what = "a number longer than 64 digits";
    } else if (original.startsWith("Unexpected character")) {
      what = "unexpected character" + quoted(original);
    } else if (original.startsWith("Unrecognized token")) {
      what = "unrecognized token (strings need double quotes; true, false and null are lowercase)";
    } else if (original.contains("control character") || original.contains("CTRL-CHAR")) {
      what = "a control character inside a string must be escaped";
    } else {
      what = "malformed JSON";
    }
    var at = e.getLocation();
    return "request body is not valid JSON"
        + (at == null || at.getLineNr() < 0
            ? ""
            : " at line " + at.getLineNr() + ", column " + at.getColumnNr())
        + ": "
        + what;
  }

  private static String quoted(String original) {
    int a = original.indexOf("('");
    int b = a < 0 ? -1 : original.indexOf("'", a + 2);
    if (a < 0 || b < 0 || b - a > 6) {
      return "";
    }
    return " '" + original.substring(a + 2, b) + "'";
  }

  private static boolean isBlank(byte[] bytes) {
    for (byte b : bytes) {
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return false;
      }
    }
    return true;
  }

  static boolean json(MediaType type) {
    return type == null
        || (type.getType().equalsIgnoreCase("application")
            && type.getSubtype().toLowerCase(Locale.ROOT).equals("json"));
  }

  /**
   * A strict reader of one body type, checked against its schema in the OpenAPI document. One
   * subclass per type: Jersey registers providers by class, so instances of one class would
   * collapse into one.
   */
  @Consumes(MediaType.APPLICATION_JSON)
  abstract static class Reader<T> implements MessageBodyReader<T> {
    private final StrictJsonBodies bodies;
    private final Class<T> type;
    private final String schema;

    Reader(StrictJsonBodies bodies, Class<T> type, String schema) {
      this.bodies = bodies;
      this.type = type;
      this.schema = schema;
    }

    @Override
    public boolean isReadable(Class<?> c, Type t, Annotation[] a, MediaType m) {
      return c == type && json(m);
    }

    @Override
    public T readFrom(
        Class<T> c,
        Type t,
        Annotation[] a,
        MediaType m,
        MultivaluedMap<String, String> h,
        InputStream in)
        throws IOException, WebApplicationException {
      return bodies.read(in, type, schema);
    }
  }

  static final class RunSpecs extends Reader<RunSpec> {
    RunSpecs(StrictJsonBodies bodies) {
      super(bodies, RunSpec.class, "RunSpec");
    }
  }

  static final class Retrains extends Reader<RetrainRequest> {
    Retrains(StrictJsonBodies bodies) {
      super(bodies, RetrainRequest.class, "RetrainRequest");
    }
  }

  static final class Sweeps extends Reader<io.loraflow.workflows.SweepSpec> {
    Sweeps(StrictJsonBodies bodies) {
      super(bodies, io.loraflow.workflows.SweepSpec.class, "SweepSpec");
    }
  }

  static final class Cancels extends Reader<CancelRequest> {
    Cancels(StrictJsonBodies bodies) {
      super(bodies, CancelRequest.class, "CancelRequest");
    }
  }

  static final class Tries extends Reader<io.loraflow.api.api.TryAdapterRequest> {
    Tries(StrictJsonBodies bodies) {
      super(bodies, io.loraflow.api.api.TryAdapterRequest.class, "TryAdapterRequest");
    }
  }
}
