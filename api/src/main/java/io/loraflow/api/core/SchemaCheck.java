package io.loraflow.api.core;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraflow.api.api.ErrorBody;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Checks a JSON request body against a schema of the served OpenAPI document, so that the document
 * is the validator and the two cannot drift. Lists every problem at once, each with its JSON path;
 * no coercion (1.5 is not an integer, 0 is not a boolean); null is not "missing" (a field that may
 * be left out is not therefore nullable); values are echoed only when short, never for a length
 * violation.
 *
 * <p>The subset of JSON Schema 2020-12 it reads: {@code $ref} (local), {@code type} (one or a
 * list), {@code properties}, {@code required}, {@code additionalProperties: false}, {@code enum},
 * {@code minimum}, {@code maximum}, {@code exclusiveMinimum}, {@code exclusiveMaximum}, {@code
 * minLength}, {@code maxLength}, {@code pattern}, {@code minItems}, {@code maxItems}, {@code
 * items}, {@code oneOf}, {@code anyOf}, {@code not}, {@code x-pattern-message}, {@code
 * x-pattern-explain} (code that explains a refused pattern), {@code propertyNames} (with its {@code
 * x-message}), and {@code x-merge-patch-of} (an RFC 7386 patch of another schema: nulls remove,
 * nothing is required). Anything else in a schema is ignored.
 */
public final class SchemaCheck {

  /** Longest value echoed back in an error. */
  static final int ECHO_MAX = 64;

  private final JsonNode document;
  private final Map<String, Pattern> patterns = new ConcurrentHashMap<>();

  public SchemaCheck(JsonNode openApiDocument) {
    this.document = openApiDocument;
  }

  /**
   * Problems of {@code value} against {@code components/schemas/<schemaName>}; empty when valid.
   */
  public List<ErrorBody.FieldError> check(JsonNode value, String schemaName) {
    List<ErrorBody.FieldError> out = new ArrayList<>();
    check(value, schema("#/components/schemas/" + schemaName), "", false, out);
    return out;
  }

  private JsonNode schema(String ref) {
    if (!ref.startsWith("#/")) {
      throw new IllegalStateException("only local $ref are supported, got " + ref);
    }
    JsonNode n = document.at(ref.substring(1));
    if (n.isMissingNode()) {
      throw new IllegalStateException("OpenAPI document has no " + ref);
    }
    return n;
  }

  private void check(
      JsonNode value, JsonNode schema, String path, boolean patch, List<ErrorBody.FieldError> out) {
    while (schema.has("$ref")) {
      schema = schema(schema.get("$ref").asText());
    }
    if (schema.has("x-merge-patch-of")) {
      schema = schema(schema.get("x-merge-patch-of").asText());
      patch = true;
      if (value.isNull()) {
        return;
      }
    }
    if (value.isNull()) {
      if (!allows(schema, "null") && !patch) {
        out.add(error(path, "must not be null (leave the field out to get its default)", null));
      }
      return;
    }
    String kind = kind(value);
    if (schema.has("type") && !typeMatches(schema.get("type"), value)) {
      out.add(error(path, "must be " + typeNames(schema.get("type")) + ", got " + kind, null));
      return;
    }
    if (schema.has("enum") && !patch) {
      boolean found = false;
      for (JsonNode e : schema.get("enum")) {
        found |= e.equals(value);
      }
      if (!found) {
        out.add(error(path, "must be one of " + schema.get("enum"), echo(value)));
      }
    }
    if (value.isNumber() && !patch) {
      checkNumber(value, schema, path, out);
    } else if (value.isTextual()) {
      checkString(value.asText(), schema, path, patch, out);
    } else if (value.isArray()) {
      checkArray(value, schema, path, patch, out);
    } else if (value.isObject()) {
      checkObject(value, schema, path, patch, out);
    }
    if (schema.has("oneOf")) {
      int matched = 0;
      for (JsonNode alternative : schema.get("oneOf")) {
        List<ErrorBody.FieldError> probe = new ArrayList<>();
        check(value, alternative, path, patch, probe);
        matched += probe.isEmpty() ? 1 : 0;
      }
      if (matched != 1) {
        out.add(
            error(
                path.isEmpty() ? "(body)" : path,
                schema.path("x-oneOf-message").asText("must match exactly one of the alternatives"),
                null));
      }
    }
    if (schema.has("anyOf") && !patch) {
      boolean any = false;
      for (JsonNode alternative : schema.get("anyOf")) {
        List<ErrorBody.FieldError> probe = new ArrayList<>();
        check(value, alternative, path, patch, probe);
        any |= probe.isEmpty();
      }
      if (!any) {
        out.add(
            error(
                path.isEmpty() ? "(body)" : path,
                schema.path("x-anyOf-message").asText("must match one of the alternatives"),
                null));
      }
    }
    if (schema.has("not")) {
      List<ErrorBody.FieldError> probe = new ArrayList<>();
      check(value, schema.get("not"), path, patch, probe);
      if (probe.isEmpty()) {
        out.add(error(path.isEmpty() ? "(body)" : path, "is not allowed here", null));
      }
    }
  }

  private void checkNumber(
      JsonNode value, JsonNode schema, String path, List<ErrorBody.FieldError> out) {
    BigDecimal v = value.decimalValue();
    if (schema.has("minimum") && v.compareTo(schema.get("minimum").decimalValue()) < 0) {
      out.add(error(path, "must be at least " + schema.get("minimum"), echo(value)));
    }
    if (schema.has("maximum") && v.compareTo(schema.get("maximum").decimalValue()) > 0) {
      out.add(error(path, "must be at most " + schema.get("maximum"), echo(value)));
    }
    if (schema.has("exclusiveMinimum")
        && v.compareTo(schema.get("exclusiveMinimum").decimalValue()) <= 0) {
      out.add(error(path, "must be greater than " + schema.get("exclusiveMinimum"), echo(value)));
    }
    if (schema.has("exclusiveMaximum")
        && v.compareTo(schema.get("exclusiveMaximum").decimalValue()) >= 0) {
      out.add(error(path, "must be less than " + schema.get("exclusiveMaximum"), echo(value)));
    }
  }

  private void checkString(
      String s, JsonNode schema, String path, boolean patch, List<ErrorBody.FieldError> out) {
    int length = s.codePointCount(0, s.length());
    if (schema.has("maxLength") && length > schema.get("maxLength").asInt()) {
      out.add(
          error(
              path,
              "is " + length + " characters; the limit is " + schema.get("maxLength").asInt(),
              null));
      return; // a too-long value is not matched against its pattern, nor echoed
    }
    if (patch) {
      return;
    }
    if (schema.has("minLength") && length < schema.get("minLength").asInt()) {
      out.add(
          error(path, "must be at least " + schema.get("minLength").asInt() + " characters", null));
    }
    if (schema.has("pattern")) {
      String regex = schema.get("pattern").asText();
      Pattern p = patterns.computeIfAbsent(regex, Pattern::compile);
      if (!p.matcher(s).find()) {
        String message =
            schema.has("x-pattern-explain")
                ? explain(schema.get("x-pattern-explain").asText(), s)
                : schema.path("x-pattern-message").asText("must match " + regex);
        out.add(error(path, message, s.length() <= ECHO_MAX ? s : null));
      }
    }
  }

  /**
   * The message of a value its pattern refused, from the code that the pattern was generated from
   * ({@code x-pattern-explain: cron} is {@link CronSyntax}, whose {@code regex()} is the pattern).
   */
  private static String explain(String explainer, String value) {
    if (!explainer.equals("cron")) {
      throw new IllegalStateException(
          "OpenAPI document names unknown x-pattern-explain " + explainer);
    }
    return CronSyntax.problem(value)
        .orElse("must be cron text the schedule accepts (the pattern and CronSyntax disagree)");
  }

  private void checkArray(
      JsonNode value, JsonNode schema, String path, boolean patch, List<ErrorBody.FieldError> out) {
    if (schema.has("maxItems") && value.size() > schema.get("maxItems").asInt()) {
      out.add(
          error(
              path,
              "has " + value.size() + " items; the limit is " + schema.get("maxItems").asInt(),
              null));
      return;
    }
    if (schema.has("minItems") && value.size() < schema.get("minItems").asInt()) {
      out.add(error(path, "needs at least " + schema.get("minItems").asInt() + " items", null));
    }
    if (schema.has("items")) {
      for (int i = 0; i < value.size(); i++) {
        check(value.get(i), schema.get("items"), path + "[" + i + "]", patch, out);
      }
    }
  }

  private void checkObject(
      JsonNode value, JsonNode schema, String path, boolean patch, List<ErrorBody.FieldError> out) {
    JsonNode properties = schema.path("properties");
    if (!patch) {
      for (JsonNode r : schema.path("required")) {
        if (!value.has(r.asText())) {
          out.add(error(join(path, r.asText()), "is required", null));
        }
      }
    }
    Iterator<Map.Entry<String, JsonNode>> fields = value.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      String at = join(path, f.getKey());
      if (schema.has("propertyNames")) {
        List<ErrorBody.FieldError> probe = new ArrayList<>();
        check(
            com.fasterxml.jackson.databind.node.TextNode.valueOf(f.getKey()),
            schema.get("propertyNames"),
            path,
            false,
            probe);
        if (!probe.isEmpty()) {
          out.add(
              error(
                  path,
                  schema
                      .get("propertyNames")
                      .path("x-message")
                      .asText("has a key that is not allowed here"),
                  f.getKey().length() <= ECHO_MAX ? f.getKey() : null));
          continue;
        }
      }
      if (properties.has(f.getKey())) {
        check(f.getValue(), properties.get(f.getKey()), at, patch, out);
      } else if (schema.has("additionalProperties")
          && schema.get("additionalProperties").isBoolean()
          && !schema.get("additionalProperties").asBoolean()) {
        TreeSet<String> known = new TreeSet<>();
        properties.fieldNames().forEachRemaining(known::add);
        String near = nearest(f.getKey(), known);
        out.add(
            error(
                at,
                "unknown field"
                    + (near != null ? "; did you mean '" + near + "'?" : "")
                    + " Known here: "
                    + known,
                null));
      } else if (schema.has("additionalProperties")
          && schema.get("additionalProperties").isObject()) {
        check(f.getValue(), schema.get("additionalProperties"), at, patch, out);
      }
    }
  }

  private static boolean allows(JsonNode schema, String type) {
    JsonNode t = schema.path("type");
    if (t.isTextual()) {
      return t.asText().equals(type);
    }
    for (JsonNode n : t) {
      if (n.asText().equals(type)) {
        return true;
      }
    }
    return false;
  }

  private static boolean typeMatches(JsonNode type, JsonNode value) {
    if (type.isArray()) {
      for (JsonNode t : type) {
        if (typeMatches(t, value)) {
          return true;
        }
      }
      return false;
    }
    return switch (type.asText()) {
      case "string" -> value.isTextual();
      case "integer" ->
          value.isIntegralNumber()
              || (value.isNumber() && value.decimalValue().stripTrailingZeros().scale() <= 0);
      case "number" -> value.isNumber();
      case "boolean" -> value.isBoolean();
      case "object" -> value.isObject();
      case "array" -> value.isArray();
      case "null" -> value.isNull();
      default -> true;
    };
  }

  private static String typeNames(JsonNode type) {
    List<String> names = new ArrayList<>();
    (type.isArray() ? type : List.of(type))
        .forEach(
            t -> {
              if (!"null".equals(t.asText())) {
                names.add(article(t.asText()));
              }
            });
    return String.join(" or ", names);
  }

  private static String article(String type) {
    return switch (type) {
      case "integer" -> "an integer";
      case "object" -> "an object";
      case "array" -> "an array";
      default -> "a " + type;
    };
  }

  private static String kind(JsonNode v) {
    if (v.isIntegralNumber()) {
      return "an integer";
    }
    if (v.isNumber()) {
      return "a number with a fraction";
    }
    if (v.isTextual()) {
      return "a string";
    }
    if (v.isBoolean()) {
      return "a boolean";
    }
    if (v.isArray()) {
      return "an array";
    }
    if (v.isObject()) {
      return "an object";
    }
    return "null";
  }

  private static Object echo(JsonNode v) {
    if (v.isNumber()) {
      return v.numberValue();
    }
    if (v.isBoolean()) {
      return v.asBoolean();
    }
    if (v.isTextual() && v.asText().length() <= ECHO_MAX) {
      return v.asText();
    }
    return null;
  }

  private static ErrorBody.FieldError error(String path, String message, Object value) {
    return new ErrorBody.FieldError(path.isEmpty() ? "(body)" : path, message, value);
  }

  private static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  /** The known name within edit distance 2 of {@code name}, if exactly one is nearest. */
  static String nearest(String name, Iterable<String> known) {
    if (name.length() > 64) {
      return null;
    }
    String best = null;
    int bestDistance = 3;
    for (String k : known) {
      int d = distance(name.toLowerCase(), k.toLowerCase());
      if (d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    return best;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
