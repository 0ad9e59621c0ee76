package io.loraflow.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.api.api.RunView;
import io.loraflow.commandline.Console;
import io.loraflow.infra.StackEnvFile;
import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import java.io.InputStream;
import java.util.List;
import java.util.Map;

/**
 * The before/after answer table of a finished run, read from its evaluation report in MinIO ({@code
 * EvalResult.reportJsonKey}). Printed after a followed run, by {@code status} and by the demo; a
 * report that cannot be read costs one line on stderr, never the command.
 */
final class Reports {

  /** Rows of the table (held-out questions) shown after a run. */
  static final int ROWS = 4;

  /** Bytes read from a report at most: the table needs the first rows only. */
  static final long MAX_REPORT_BYTES = 16L << 20;

  private Reports() {}

  static void printAnswers(CliSettings settings, RunView run, Console console) {
    printAnswers(settings, run, ROWS, console);
  }

  static void printAnswers(CliSettings settings, RunView run, int rows, Console console) {
    if (run.result() == null || run.result().eval() == null) {
      return;
    }
    String key = run.result().eval().reportJsonKey();
    if (key == null || settings == null) {
      return;
    }
    String bucket = settings.links().bucket();
    try {
      MinioClient s3 = client(console.env(), settings);
      JsonNode report;
      try (InputStream in =
          s3.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
        report = new ObjectMapper().readTree(in.readNBytes((int) MAX_REPORT_BYTES));
      }
      List<AnswerTable.Row> table = AnswerTable.rowsOf(report.path("rows"));
      List<AnswerTable.Row> seen = AnswerTable.rowsOf(report.path("seenRows"));
      if (table.isEmpty()) {
        console.out().println("(no per-question answers in s3://" + bucket + "/" + key + ")");
        return;
      }
      console.out().println();
      console
          .out()
          .println(
              "before/after on held-out questions ("
                  + Math.min(rows, table.size())
                  + " of "
                  + table.size()
                  + "; all in s3://"
                  + bucket
                  + "/"
                  + key
                  + "):");
      console.out().print(AnswerTable.render(table, Terminal.width(), rows, 4));
      if (!seen.isEmpty()) {
        console.out().println();
        console
            .out()
            .println(
                "before/after on seen (training) questions ("
                    + Math.min(rows, seen.size())
                    + " of "
                    + seen.size()
                    + "):");
        console.out().print(AnswerTable.render(seen, Terminal.width(), rows, 4));
      }
    } catch (Exception e) {
      console
          .err()
          .println("could not read the evaluation report s3://" + bucket + "/" + key + ": " + e);
    }
  }

  /** The stack's MinIO, with the keys from LORAFLOW_S3_* or stack.env. */
  private static MinioClient client(Map<String, String> env, CliSettings settings) {
    Map<String, String> merged = StackEnvFile.merged(env);
    String access = merged.get("LORAFLOW_S3_ACCESS_KEY");
    String secret = merged.get("LORAFLOW_S3_SECRET_KEY");
    if (access == null || secret == null) {
      throw new IllegalStateException(
          "LORAFLOW_S3_ACCESS_KEY/LORAFLOW_S3_SECRET_KEY not set and not in "
              + StackEnvFile.path(env));
    }
    return MinioClient.builder()
        .endpoint(settings.links().s3Endpoint().toString())
        .credentials(access, secret)
        .build();
  }
}
