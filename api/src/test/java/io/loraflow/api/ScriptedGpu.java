package io.loraflow.api;

import io.loraflow.workflows.BaseModelRef;
import io.loraflow.workflows.BaseModelRequest;
import io.loraflow.workflows.EvalRequest;
import io.loraflow.workflows.EvalResult;
import io.loraflow.workflows.GpuActivities;
import io.loraflow.workflows.TrainRequest;
import io.loraflow.workflows.TrainResult;
import io.loraflow.workflows.TryRequest;
import io.loraflow.workflows.TryResult;

/**
 * A GPU worker for API tests: generate answers with the prompt it got (so a test sees what reached
 * the GPU queue); the real generate activity is tested on the engine (worker-gpu's AdapterTrialTest
 * and TryAdapterIT). The other activities are not used by these tests.
 */
public class ScriptedGpu implements GpuActivities {
  @Override
  public BaseModelRef prepareBaseModel(BaseModelRequest request) {
    throw new UnsupportedOperationException("not scripted");
  }

  @Override
  public TrainResult train(TrainRequest request) {
    throw new UnsupportedOperationException("not scripted");
  }

  @Override
  public EvalResult evaluate(EvalRequest request) {
    throw new UnsupportedOperationException("not scripted");
  }

  @Override
  public TryResult generate(TryRequest request) {
    return new TryResult(
        "echo " + request.adapterKey() + " | " + request.prompt(),
        request.prompt().length(),
        request.maxNewTokens(),
        false,
        0.01);
  }
}
