package io.loraflow.workflows;

import io.temporal.common.SearchAttributeKey;

/**
 * Custom search attributes of a FineTune run (all Keyword). They must be registered on the
 * namespace before the first run, e.g. {@code temporal operator search-attribute create --name
 * LoraflowPhase --type Keyword} (the deploy scripts do this); the dev server's {@code
 * --search-attribute LoraflowPhase=Keyword} flag does the same.
 */
public final class LoraflowSearchAttributes {

  /** The run spec's baseModel (alias or URI), set when the run starts. */
  public static final SearchAttributeKey<String> BASE_MODEL =
      SearchAttributeKey.forKeyword("LoraflowBaseModel");

  /** The dataset's content sha256, set when prepareDataset returns. */
  public static final SearchAttributeKey<String> DATASET =
      SearchAttributeKey.forKeyword("LoraflowDataset");

  /** The current {@link Phase} name, updated as phases change. */
  public static final SearchAttributeKey<String> PHASE =
      SearchAttributeKey.forKeyword("LoraflowPhase");

  private LoraflowSearchAttributes() {}
}
