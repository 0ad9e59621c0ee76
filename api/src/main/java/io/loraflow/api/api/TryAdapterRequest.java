package io.loraflow.api.api;

/**
 * Try an adapter on a prompt.
 *
 * @param adapter a run id ({@code finetune-...}) or a registered version ({@code <name>@champion},
 *     {@code <name>/3}, {@code models:/<name>@<alias>})
 * @param prompt the question; it is put into the run's template as in training
 * @param maxNewTokens at most this many new tokens (1-512, default 64)
 * @param temperature 0 (default) = greedy; up to 2 samples
 * @param seed sampling seed (default 42)
 */
public record TryAdapterRequest(
    String adapter, String prompt, Integer maxNewTokens, Double temperature, Long seed) {

  public TryAdapterRequest {
    maxNewTokens = maxNewTokens == null ? 64 : maxNewTokens;
    temperature = temperature == null ? 0.0 : temperature;
    seed = seed == null ? 42L : seed;
  }
}
