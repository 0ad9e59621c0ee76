package io.loraflow.api.api;

import java.util.List;
import java.util.Map;

/**
 * A registered model of adapters (one per base model and dataset lineage by default).
 *
 * @param name registered model name, e.g. {@code loraflow-smollm2-135m-instruct-ecommerce-faq}
 * @param aliases alias -> version, e.g. {champion: "3", candidate: "4"}
 * @param latestVersion newest version number
 * @param versions newest first, at most the requested number
 * @param url the registered model's page in the MLflow UI
 */
public record RegisteredAdapter(
    String name,
    Map<String, String> aliases,
    String latestVersion,
    List<AdapterVersion> versions,
    String url) {}
