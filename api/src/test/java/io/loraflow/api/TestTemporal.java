package io.loraflow.api;

import io.loraflow.api.core.LinkSettings;
import io.loraflow.workflows.LoraflowSearchAttributes;
import io.loraflow.workflows.TaskQueues;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.testing.TestWorkflowEnvironment;
import java.net.URI;

/** An in-memory Temporal with a CPU worker running {@link ScriptedFineTune}. */
public final class TestTemporal {

  public static final LinkSettings LINKS =
      new LinkSettings(
          URI.create("http://127.0.0.1:8233"),
          URI.create("http://127.0.0.1:5000"),
          URI.create("http://127.0.0.1:9000"),
          URI.create("http://127.0.0.1:9001"),
          "loraflow");

  private TestTemporal() {}

  public static TestWorkflowEnvironment start() {
    TestWorkflowEnvironment env = unstarted();
    env.newWorker(TaskQueues.CPU).registerWorkflowImplementationTypes(ScriptedFineTune.class);
    env.start();
    return env;
  }

  /** An in-memory Temporal with loraflow's search attributes, no worker yet, not started. */
  public static TestWorkflowEnvironment unstarted() {
    TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance();
    for (String name :
        new String[] {
          LoraflowSearchAttributes.BASE_MODEL.getName(),
          LoraflowSearchAttributes.DATASET.getName(),
          LoraflowSearchAttributes.PHASE.getName()
        }) {
      env.registerSearchAttribute(name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
    }
    return env;
  }
}
