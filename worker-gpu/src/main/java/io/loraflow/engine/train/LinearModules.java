package io.loraflow.engine.train;

import io.loraflow.engine.io.WeightSource;
import java.util.ArrayList;
import java.util.List;

/**
 * The linear module paths of a model read from its tensor names alone (no weight is loaded): every
 * 2-d "*.weight" except the token embeddings. Lets LoRA targets be checked before loading.
 */
public final class LinearModules {

  private LinearModules() {}

  public static List<String> of(WeightSource weights) {
    List<String> out = new ArrayList<>();
    for (String name : new java.util.TreeSet<>(weights.names())) {
      if (!name.endsWith(".weight") || weights.shape(name).dimension() != 2) {
        continue;
      }
      String module = name.substring(0, name.length() - ".weight".length());
      String last = module.substring(module.lastIndexOf('.') + 1);
      if (last.equals("embed_tokens") || last.equals("word_embeddings") || last.equals("wte")) {
        continue;
      }
      out.add(module);
    }
    return out;
  }
}
