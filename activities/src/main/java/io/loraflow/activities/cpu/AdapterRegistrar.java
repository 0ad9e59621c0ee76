package io.loraflow.activities.cpu;

import io.loraflow.activities.cpu.AdapterRegistry.ModelVersion;
import io.loraflow.workflows.EvalResult;
import io.loraflow.workflows.RegistrationRequest;
import io.loraflow.workflows.RegistrationResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers a run's adapter as a model version, the way the pipeline's registerAdapter does (its
 * only implementation): find-or-create by the workflow tag (idempotent), alias "candidate", then
 * {@link PromotionPolicy} decides "champion"; the decision is stored on the version (tag {@value
 * #DECISION_TAG}) and returned, so the run result, the API and the CLI can say why.
 */
public final class AdapterRegistrar {

  /** Tag that finds a workflow's registered version again on retries. */
  public static final String WORKFLOW_TAG = "loraflow.workflow_id";

  /** Version tag: the promotion decision in one sentence. */
  public static final String DECISION_TAG = "loraflow.promotion";

  public static final String CANDIDATE = "candidate";
  public static final String CHAMPION = "champion";

  private static final Logger log = LoggerFactory.getLogger(AdapterRegistrar.class);

  private final AdapterRegistry registry;

  public AdapterRegistrar(AdapterRegistry registry) {
    this.registry = registry;
  }

  /**
   * @param source the version's source URI, e.g. {@code s3://loraflow/runs/<id>/adapter/}
   * @param evalSetSha256 sha256 of the tokenized held-out split the eval losses come from ("" when
   *     unknown: such a version is never compared with a champion)
   */
  public RegistrationResult register(
      RegistrationRequest request, String source, String evalSetSha256) throws IOException {
    String name = request.modelName();
    Optional<ModelVersion> existing =
        registry.findVersionByTag(name, WORKFLOW_TAG, request.workflowId());
    ModelVersion version =
        existing.isPresent()
            ? existing.get()
            : registry.createVersion(
                name, source, request.mlflowRunId(), versionTags(request, evalSetSha256));
    registry.setAlias(name, CANDIDATE, version.version());
    List<String> aliases = new ArrayList<>(List.of(CANDIDATE));
    boolean promoted;
    String decision;
    if (!request.promote()) {
      promoted = false;
      decision = "not promoted: registry.promote is false for this run";
    } else {
      Optional<ModelVersion> champion = registry.versionByAlias(name, CHAMPION);
      if (champion.isPresent() && champion.get().version().equals(version.version())) {
        // a retry after the alias moved: the decision was recorded on the version
        promoted = true;
        decision = version.tags().getOrDefault(DECISION_TAG, "promoted (by an earlier attempt)");
      } else {
        PromotionPolicy.Decision d =
            PromotionPolicy.decide(request.eval(), evalSetSha256, champion);
        promoted = d.promote();
        decision = d.reason();
        // the tag first, the alias last: a crash in between leaves a decision, never a silent move
        registry.setVersionTag(name, version.version(), DECISION_TAG, decision);
        if (promoted) {
          registry.setAlias(name, CHAMPION, version.version());
        }
      }
    }
    log.info("{} version {}: {}", name, version.version(), decision);
    if (promoted) {
      aliases.add(CHAMPION);
    }
    return new RegistrationResult(
        name, version.version(), aliases, promoted, decision, evalSetSha256);
  }

  private static Map<String, String> versionTags(RegistrationRequest r, String evalSetSha256) {
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put(WORKFLOW_TAG, r.workflowId());
    tags.put("loraflow.base_model", r.baseModel());
    tags.put("loraflow.dataset_sha256", r.datasetSha256());
    tags.put("loraflow.adapter_key", r.adapterKey());
    if (evalSetSha256 != null && !evalSetSha256.isEmpty()) {
      tags.put(PromotionPolicy.EVAL_SET_TAG, evalSetSha256);
    }
    EvalResult eval = r.eval();
    if (eval != null) {
      tags.put(PromotionPolicy.EVAL_LOSS_TAG, Double.toString(eval.adapterEvalLoss()));
      tags.put("loraflow.eval_loss_base", Double.toString(eval.baseEvalLoss()));
      if (eval.adapter() != null) {
        tags.put("loraflow.rougeL", Double.toString(eval.adapter().rougeL()));
      }
    }
    return tags;
  }
}
