package io.loraflow.infra.mlflow;

import java.util.Map;

/**
 * A request to register an adapter as a new version of a registered model.
 *
 * @param modelName registered model name, e.g. {@code smollm2-135m-instruct-faq}
 * @param source where the adapter lives, e.g. {@code s3://loraflow/runs/<run-id>/adapter}
 * @param runId the MLflow run that produced it
 * @param workflowId the workflow that produced it; the idempotency key of the registration
 * @param tags extra version tags (dataset hash, base model, ...)
 * @param metricKey the eval metric that decides promotion, e.g. {@code eval_loss}
 * @param metricValue this version's value of it
 * @param higherIsBetter true for scores (ROUGE-L), false for losses
 */
public record Registration(
    String modelName,
    String source,
    String runId,
    String workflowId,
    Map<String, String> tags,
    String metricKey,
    double metricValue,
    boolean higherIsBetter) {
  public Registration {
    if (modelName == null || !modelName.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,255}")) {
      throw new IllegalArgumentException(
          "registered model name '" + modelName + "' must be letters, digits, . _ -");
    }
    if (source == null || source.isBlank()) {
      throw new IllegalArgumentException("registration of " + modelName + " has no source URI");
    }
    if (workflowId == null || workflowId.isBlank()) {
      throw new IllegalArgumentException("registration of " + modelName + " has no workflow id");
    }
    if (!Double.isFinite(metricValue)) {
      throw new IllegalArgumentException(
          "registration of "
              + modelName
              + ": "
              + metricKey
              + " = "
              + metricValue
              + " is not finite");
    }
    tags = Map.copyOf(tags);
  }
}
