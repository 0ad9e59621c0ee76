package io.loraflow.workflows;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Readable workflow ids. With a run name: {@code finetune-<runName>} (starting the same name twice
 * while one runs is rejected by Temporal, which makes starts idempotent). Without one: {@code
 * finetune-<model>-<dataset-hash8>-<yyyymmdd-hhmmss>} where {@code dataset-hash8} is the first 8
 * hex digits of the sha256 of the dataset URI (the content hash is only known after
 * prepareDataset). The workflow id is also the run id of the storage layout ({@code runs/<id>/}).
 */
public final class WorkflowIds {

  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

  private WorkflowIds() {}

  /** The workflow id for a spec started at {@code now} (UTC). */
  public static String forRun(RunSpec spec, Instant now) {
    if (spec.runName() != null) {
      return "finetune-" + slug(spec.runName(), 64);
    }
    String model = slug(BaseModels.storageName(spec.baseModel()), 40);
    String hash8 = BaseModels.sha256Hex(spec.dataset()).substring(0, 8);
    return "finetune-" + model + "-" + hash8 + "-" + STAMP.format(now);
  }

  /** Lowercase letters, digits, '.', '_' and '-' only; other runs collapse into '-'. */
  public static String slug(String s, int maxLength) {
    String out =
        s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]+", "-").replaceAll("^-+|-+$", "");
    return out.length() <= maxLength ? out : out.substring(0, maxLength).replaceAll("-+$", "");
  }

  /**
   * The storage run id of a workflow id: the id itself when it is a valid storage name (ids made by
   * {@link #forRun} always are), else its slug plus 8 hex digits of its sha256 (ids typed into the
   * Temporal UI may hold spaces or slashes).
   */
  public static String runIdOf(String workflowId) {
    if (workflowId.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,199}") && !workflowId.contains("..")) {
      return workflowId;
    }
    String slug = slug(workflowId, 120).replace("..", ".");
    return (slug.isEmpty() ? "run" : slug) + "-" + BaseModels.sha256Hex(workflowId).substring(0, 8);
  }
}
