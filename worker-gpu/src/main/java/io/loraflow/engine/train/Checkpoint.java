package io.loraflow.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.loraflow.engine.io.Safetensors;
import io.loraflow.engine.lora.PeftAdapter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A full training state in one local directory, complete only once {@code manifest.json} exists:
 *
 * <ul>
 *   <li>{@code adapter_config.json}, {@code adapter_model.safetensors}: the LoRA weights in PEFT
 *       format (usable as the adapter as-is)
 *   <li>{@code optimizer.safetensors}: AdamW moments (float32, or 8-bit codes + absmax)
 *   <li>{@code trainer_state.json}: step, loss scale + good-step counter, seed (the data order and
 *       every dropout mask are functions of seed and step), metrics history
 *   <li>{@code train_config.json}: the resolved {@link TrainConfig}
 *   <li>{@code best/adapter_config.json}, {@code best/adapter_model.safetensors}: the adapter of
 *       the best held-out evaluation so far (only when the run evaluates during training)
 *   <li>{@code manifest.json}, written last via rename: file sizes and SHA-256
 * </ul>
 */
public final class Checkpoint {

  public static final String MANIFEST = "manifest.json";
  public static final String OPTIMIZER = "optimizer.safetensors";
  public static final String STATE = "trainer_state.json";
  public static final String CONFIG = "train_config.json";
  static final String FORMAT = "loraflow-checkpoint-v1";

  /**
   * Non-finite numbers (a skipped fp16 step's gradient norm) are written as the strings "NaN" and
   * "Infinity"; the bare tokens that checkpoints written before (with Gson) hold are read too.
   */
  static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  private Checkpoint() {}

  /**
   * The trainer's scalar state.
   *
   * @param step optimizer steps done
   * @param totalSteps planned optimizer steps
   * @param lossScale current fp16 loss scale
   * @param goodSteps good steps since the last scale change
   * @param seed run seed
   * @param baseModel base_model_name_or_path for the adapter
   * @param history metrics of the newest steps (at most {@link StepHistory#RECENT}; every step in
   *     checkpoints older than {@code steps})
   * @param evalHistory held-out evaluations so far (null in checkpoints older than the field)
   * @param earlyStopping best held-out loss, its step and the patience counter (null: none yet)
   * @param steps counters and thinned loss curve over every step (null in checkpoints older than
   *     the field: rebuilt from {@code history})
   */
  public record State(
      long step,
      long totalSteps,
      double lossScale,
      int goodSteps,
      long seed,
      String baseModel,
      List<StepMetrics> history,
      List<EvalMetrics> evalHistory,
      EarlyStopping.State earlyStopping,
      StepHistory.Totals steps) {}

  /** Writes the optimizer/state/config files, then the manifest. The PEFT files must exist. */
  static void finish(Path dir, Map<String, NDArray> optimizerState, State state, TrainConfig config)
      throws IOException {
    Safetensors.write(dir.resolve(OPTIMIZER), optimizerState, Map.of("format", "pt"));
    JSON.writeValue(dir.resolve(STATE).toFile(), state);
    JSON.writeValue(dir.resolve(CONFIG).toFile(), config);
    Map<String, Object> files = new LinkedHashMap<>();
    List<String> names =
        new ArrayList<>(
            List.of(PeftAdapter.CONFIG_FILE, PeftAdapter.WEIGHTS_FILE, OPTIMIZER, STATE, CONFIG));
    if (Files.isDirectory(dir.resolve(BestCheckpoint.DIR))) {
      BestCheckpoint.FILES.forEach(f -> names.add(BestCheckpoint.DIR + "/" + f));
    }
    for (String f : names) {
      Path p = dir.resolve(f);
      files.put(f, Map.of("bytes", Files.size(p), "sha256", sha256(p)));
    }
    Map<String, Object> manifest = new LinkedHashMap<>();
    manifest.put("format", FORMAT);
    manifest.put("step", state.step());
    manifest.put("files", files);
    Path tmp = dir.resolve(MANIFEST + ".tmp");
    JSON.writeValue(tmp.toFile(), manifest);
    Files.move(tmp, dir.resolve(MANIFEST), StandardCopyOption.ATOMIC_MOVE);
  }

  /** True when {@code dir} has a manifest and every file it lists has the listed size. */
  public static boolean isComplete(Path dir) {
    try {
      verify(dir);
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Throws naming the problem when {@code dir} is not a complete, intact checkpoint. */
  public static void verify(Path dir) throws IOException {
    Path manifest = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(manifest)) {
      throw new IOException(dir + " is not a complete checkpoint: " + MANIFEST + " is missing");
    }
    JsonNode m = JSON.readTree(manifest.toFile());
    if (m == null || !FORMAT.equals(m.path("format").asText(null))) {
      throw new IOException(manifest + ": unknown format " + (m == null ? null : m.get("format")));
    }
    JsonNode files = m.path("files");
    if (!files.isObject() || files.isEmpty()) {
      throw new IOException(manifest + ": lists no files");
    }
    for (var e : files.properties()) {
      Path p = dir.resolve(e.getKey());
      JsonNode entry = e.getValue();
      if (!entry.path("bytes").isIntegralNumber() || !entry.path("sha256").isTextual()) {
        throw new IOException(manifest + ": entry " + e.getKey() + " lacks bytes/sha256");
      }
      long bytes = entry.get("bytes").asLong();
      if (!Files.isRegularFile(p) || Files.size(p) != bytes) {
        throw new IOException(dir + ": " + e.getKey() + " is missing or not " + bytes + " bytes");
      }
      String sha = entry.get("sha256").asText();
      if (!sha.equals(sha256(p))) {
        throw new IOException(dir + ": " + e.getKey() + " does not match its SHA-256");
      }
    }
  }

  /** The complete checkpoint with the highest step under {@code root} (dirs named step-N). */
  public static Optional<Path> newest(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> dirs = Files.list(root)) {
      return dirs.filter(d -> d.getFileName().toString().matches("step-\\d+"))
          .filter(Checkpoint::isComplete)
          .max(
              Comparator.comparingLong(
                  d -> Long.parseLong(d.getFileName().toString().substring(5))));
    }
  }

  public static TrainConfig readConfig(Path dir) throws IOException {
    verify(dir);
    return JSON.readValue(dir.resolve(CONFIG).toFile(), TrainConfig.class);
  }

  static State readState(Path dir) throws IOException {
    return JSON.readValue(dir.resolve(STATE).toFile(), State.class);
  }

  static Map<String, NDArray> readOptimizer(Path dir, NDManager manager) throws IOException {
    return Safetensors.readAll(dir.resolve(OPTIMIZER), manager);
  }

  /** Empties {@code dir} (a leftover of an interrupted write) and creates it. */
  static void prepare(Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (Stream<Path> walk = Files.walk(dir)) {
        List<Path> all = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
        for (Path p : all) {
          Files.delete(p);
        }
      }
    }
    Files.createDirectories(dir);
  }

  static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static StepHistory historyOf(State s) {
    return StepHistory.restore(s.steps(), s.history() == null ? List.of() : s.history());
  }

  static List<EvalMetrics> evalHistoryOf(State s) {
    return s.evalHistory() == null ? List.of() : s.evalHistory();
  }
}
