package io.loraflow.api.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.loraflow.workflows.RunSpec;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * sha256 of a run spec's canonical JSON (defaults filled in by the record, keys sorted), so two
 * requests that mean the same run have the same fingerprint whatever their field order or omitted
 * defaults. Stored in the workflow memo to detect an idempotency key reused for another spec.
 */
public final class SpecFingerprint {

  /** Memo key of the fingerprint on every run the API or CLI starts. */
  public static final String MEMO_KEY = "loraflowSpecSha256";

  private static final ObjectMapper CANONICAL =
      JsonMapper.builder()
          .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .build();

  private SpecFingerprint() {}

  public static String of(RunSpec spec) {
    try {
      byte[] json = CANONICAL.writeValueAsBytes(spec);
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize run spec " + spec, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JRE", e);
    }
  }

  /** The canonical JSON itself (for tests and error messages). */
  static String canonicalJson(RunSpec spec) {
    try {
      return CANONICAL.writeValueAsString(spec);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize run spec " + spec, e);
    }
  }
}
