package io.loraflow.gpu;

import io.loraflow.workflows.Phase;
import io.loraflow.workflows.Progress;
import io.loraflow.workflows.RunProgress;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The latest {@link Progress} of one GPU activity. It travels in the activity's heartbeat details
 * (the next heartbeat, at most {@link io.loraflow.workflows.ActivityPolicies#GPU_HEARTBEAT_EVERY}
 * later), never as a signal: heartbeats add no events to the run's history, whatever their number.
 * Readers combine it with the workflow's phase through {@link RunProgress}.
 */
final class ProgressReporter {
  private final AtomicReference<Progress> latest;

  ProgressReporter(Phase phase) {
    this.latest = new AtomicReference<>(Progress.of(phase, ""));
  }

  void report(Progress p) {
    latest.set(p);
  }

  Progress latest() {
    return latest.get();
  }
}
