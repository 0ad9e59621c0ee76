package io.loraflow.workflows.admission;

import java.util.List;

/**
 * The gate workflow's input, and what it carries through continue-as-new.
 *
 * @param config the settings in force
 * @param queue waiting runs and holders
 * @param undelivered granted runs not yet told (they are told first after continue-as-new)
 * @param generation how many times the gate has continued as new (shown in its status)
 */
public record GateState(
    AdmissionConfig config,
    AdmissionQueue.Snapshot queue,
    List<String> undelivered,
    long generation) {

  public GateState {
    config = config == null ? AdmissionConfig.DEFAULT : config;
    queue = queue == null ? new AdmissionQueue.Snapshot(config.slots(), null, null) : queue;
    undelivered = undelivered == null ? List.of() : List.copyOf(undelivered);
  }

  public static GateState empty(AdmissionConfig config) {
    return new GateState(config, null, null, 0);
  }
}
