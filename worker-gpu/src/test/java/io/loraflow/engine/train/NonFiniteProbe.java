package io.loraflow.engine.train;

import ai.djl.Device;
import io.loraflow.activities.dataset.DatasetParser;
import io.loraflow.activities.dataset.QaPair;
import io.loraflow.activities.prompts.FormattedSplits;
import io.loraflow.activities.prompts.PromptFormatter;
import io.loraflow.activities.prompts.PromptTemplate;
import io.loraflow.activities.prompts.TokenizedExample;
import io.loraflow.engine.io.ModelFiles;
import io.loraflow.engine.session.ModelSession;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Diagnosis of the non-finite gradients of the fp32 CPU SmolLM2 run (bench/results/quality-smollm2-
 * cpu.md: steps 78 and 87 of 89 skipped). Same model, data, split and config as that run's {@code
 * loraflow train} defaults; for the given steps (1-based) it computes the gradients of their
 * micro-batch at the initial LoRA weights and names every parameter with a non-finite gradient,
 * with the example's length and answer tokens.
 *
 * <pre>
 * java -cp ... io.loraflow.engine.train.NonFiniteProbe MODEL.gguf DATA.json [STEP ...]
 * </pre>
 */
public final class NonFiniteProbe {
  private NonFiniteProbe() {}

  public static void main(String[] args) throws Exception {
    Path model = Path.of(args[0]);
    Path data = Path.of(args[1]);
    List<Long> steps = new ArrayList<>();
    for (int i = 2; i < args.length; i++) {
      steps.add(Long.parseLong(args[i]));
    }
    TrainConfig.Builder b = TrainConfig.defaults().toBuilder();
    b.precision = TrainConfig.Precision.FP32;
    b.gradientCheckpointing = false;
    b.checkpointEvery = 0;
    TrainConfig config = b.build();
    System.out.println("config: " + config);
    try (ModelFiles files = ModelFiles.open(model)) {
      List<String> linears = LinearModules.of(files.weights());
      config.validateAgainst(files.config(), linears, model.toString());
      List<QaPair> pairs =
          new DatasetParser(20)
              .parse(
                  Files.readString(data, StandardCharsets.UTF_8),
                  "auto",
                  data.getFileName().toString(),
                  data.toString())
              .pairs();
      PromptTemplate template =
          PromptTemplate.resolve("default", files.chatTemplate().orElse(null));
      long eos = files.eosTokenIds().isEmpty() ? -1 : files.eosTokenIds().get(0);
      List<Example> train = new ArrayList<>();
      try (PromptFormatter f =
          PromptFormatter.open(files.tokenizerJson(), template, eos, config.maxSeqLen())) {
        FormattedSplits splits = f.format(pairs, 0.1, config.seed());
        for (TokenizedExample t : splits.train()) {
          Example e = new Example(t.inputIds(), t.labels());
          if (e.targetTokens() > 0) {
            train.add(e);
          }
        }
      }
      BatchPlan plan = new BatchPlan(train, config);
      System.out.printf("%d train examples, %d batches%n", train.size(), plan.totalBatches());
      try (ModelSession session =
          ModelSession.forTraining(files, config, Device.cpu(), model.toString())) {
        session.factory().keepDequantized(true);
        Path ckpt = Files.createTempDirectory("probe");
        try (Trainer trainer =
            new Trainer(
                session.model(),
                session.factory().loraModules(),
                linears,
                config,
                train,
                ckpt,
                "probe")) {
          if (System.getenv("PROBE_TRAIN_TO") != null) {
            // train up to the step before the first probed one, as the real run did
            long stopAfter = Long.parseLong(System.getenv("PROBE_TRAIN_TO"));
            trainer.addProgressListener(
                m -> {
                  System.out.printf(
                      "train step %d: loss %.4f grad norm %.4g skipped %s lr %.3g%n",
                      m.step(), m.loss(), m.gradNorm(), m.skipped(), m.learningRate());
                  if (m.step() == stopAfter) {
                    trainer.requestStop();
                  }
                });
            trainer.run();
            double maxA = 0;
            double maxB = 0;
            String whereB = "";
            for (var l : session.factory().loraModules().values()) {
              maxA = Math.max(maxA, l.loraA().abs().max().getFloat());
              float b1 = l.loraB().abs().max().getFloat();
              if (b1 > maxB) {
                maxB = b1;
                whereB = l.name();
              }
            }
            System.out.printf(
                "after step %d: max |A| %.4g, max |B| %.4g (%s)%n",
                trainer.step(), maxA, maxB, whereB);
          }
          for (long step : steps) {
            List<Example> batch = plan.batch((step - 1) * config.gradAccumulation());
            Example e = batch.get(0);
            long t0 = System.nanoTime();
            Map<String, float[]> grads =
                trainer.gradientsOf(batch, (step - 1) * config.gradAccumulation());
            int bad = 0;
            double sumSq = 0;
            for (var g : grads.entrySet()) {
              int nonFinite = 0;
              float maxAbs = 0;
              for (float v : g.getValue()) {
                if (!Float.isFinite(v)) {
                  nonFinite++;
                } else {
                  maxAbs = Math.max(maxAbs, Math.abs(v));
                  sumSq += (double) v * v;
                }
              }
              if (nonFinite > 0) {
                bad++;
                if (bad <= 12) {
                  System.out.printf(
                      "  step %d: %s: %d of %d non-finite (max |finite| %.3g)%n",
                      step, g.getKey(), nonFinite, g.getValue().length, maxAbs);
                }
              }
            }
            System.out.printf(
                "step %d: example of %d tokens, %d answer tokens: %d of %d parameters with"
                    + " non-finite gradients, finite norm %.4g (%.1f s)%n",
                step,
                e.length(),
                e.targetTokens(),
                bad,
                grads.size(),
                Math.sqrt(sumSq),
                (System.nanoTime() - t0) / 1e9);
          }
        }
      }
    }
  }
}
