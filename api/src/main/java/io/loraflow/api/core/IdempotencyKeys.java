package io.loraflow.api.core;

import java.util.regex.Pattern;

/**
 * Idempotency keys of start requests. A key names its run: the workflow id is {@code
 * finetune-key-<key>}, and Temporal refuses a second workflow with that id (while one runs, and
 * afterwards by the reuse policy), so a retried request gets the same run instead of a second one.
 */
public final class IdempotencyKeys {

  /** HTTP header that carries the key. */
  public static final String HEADER = "Idempotency-Key";

  /** 1-64 letters, digits, '.', '_' or '-' (it becomes part of a workflow id). */
  public static final String PATTERN = "[A-Za-z0-9._-]{1,64}";

  private static final Pattern VALID = Pattern.compile(PATTERN);

  private IdempotencyKeys() {}

  /** The workflow id for {@code key}. */
  public static String workflowId(String key) {
    if (key == null || !VALID.matcher(key).matches()) {
      throw new IllegalArgumentException(
          HEADER + " '" + key + "' must be 1-64 letters, digits, '.', '_' or '-'");
    }
    return "finetune-key-" + key;
  }
}
