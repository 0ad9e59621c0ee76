package io.loraflow.workflows.admission;

import io.loraflow.infra.EnvInts;
import java.time.Duration;
import java.util.Map;

/**
 * The FIFO admission gate's settings (read by the CPU worker, sent to the gate with every request;
 * the gate follows the newest request's values).
 *
 * @param slots runs past the admission point at once ({@code LORAFLOW_ADMISSION_SLOTS}, default 2,
 *     1..1000): the runs that prepare their model, format prompts, train and evaluate; the others
 *     wait after prepareDataset, oldest first, with no activity running
 * @param holderCheckSeconds while runs wait, how often the gate asks the server whether its holders
 *     are still running, so a terminated or timed-out holder's slot is reclaimed ({@code
 *     LORAFLOW_ADMISSION_CHECK_SECONDS}, default 15, 1..3600)
 * @param maxWaiting waiting runs the gate accepts; a run beyond that fails at once with {@code
 *     AdmissionRefused} ({@code LORAFLOW_ADMISSION_MAX_WAITING}, default 10000, 1..100000)
 * @param continueAsNewAfterEvents the gate continues as new (carrying its queue and holders) once
 *     its history has this many events ({@code LORAFLOW_ADMISSION_HISTORY_EVENTS}, default 2000,
 *     40..40000; Temporal warns at 10,240)
 */
public record AdmissionConfig(
    int slots, int holderCheckSeconds, int maxWaiting, int continueAsNewAfterEvents) {

  public static final String SLOTS = "LORAFLOW_ADMISSION_SLOTS";
  public static final String CHECK_SECONDS = "LORAFLOW_ADMISSION_CHECK_SECONDS";
  public static final String MAX_WAITING = "LORAFLOW_ADMISSION_MAX_WAITING";
  public static final String HISTORY_EVENTS = "LORAFLOW_ADMISSION_HISTORY_EVENTS";

  public static final AdmissionConfig DEFAULT = new AdmissionConfig(2, 15, 10_000, 2_000);

  public AdmissionConfig {
    EnvInts.requireInRange(SLOTS, slots, 1, 1000);
    EnvInts.requireInRange(CHECK_SECONDS, holderCheckSeconds, 1, 3600);
    EnvInts.requireInRange(MAX_WAITING, maxWaiting, 1, 100_000);
    EnvInts.requireInRange(HISTORY_EVENTS, continueAsNewAfterEvents, 40, 40_000);
  }

  public static AdmissionConfig fromEnv(Map<String, String> env) {
    return new AdmissionConfig(
        EnvInts.intOf(env, SLOTS, DEFAULT.slots),
        EnvInts.intOf(env, CHECK_SECONDS, DEFAULT.holderCheckSeconds),
        EnvInts.intOf(env, MAX_WAITING, DEFAULT.maxWaiting),
        EnvInts.intOf(env, HISTORY_EVENTS, DEFAULT.continueAsNewAfterEvents));
  }

  public Duration holderCheckEvery() {
    return Duration.ofSeconds(holderCheckSeconds);
  }
}
