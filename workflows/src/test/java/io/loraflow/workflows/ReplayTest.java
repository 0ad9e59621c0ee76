package io.loraflow.workflows;

import io.temporal.testing.WorkflowReplayer;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Histories recorded by earlier versions of the workflow must still replay: a change that breaks
 * this test needs a {@code Workflow.getVersion} branch (see FineTuneWorkflowImpl.PIPELINE_CHANGE).
 */
class ReplayTest {

  @Test
  void pipelineVersion1HappyPathStillReplays() throws Exception {
    try (InputStream in = getClass().getResourceAsStream("/histories/finetune-v1-happy.json")) {
      String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      WorkflowReplayer.replayWorkflowExecution(json, FineTuneWorkflowImpl.class);
    }
  }
}
