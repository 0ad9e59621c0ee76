package io.loraflow.engine.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LoraConfigTest {

  @Test
  void matchesLikePeft() {
    LoraConfig qv = LoraConfig.of(16, 32, 0.05, List.of("q_proj", "v_proj"));
    assertTrue(qv.targets("model.layers.0.self_attn.q_proj"));
    assertTrue(qv.targets("v_proj"));
    assertFalse(qv.targets("model.layers.0.self_attn.k_proj"));
    assertFalse(qv.targets("model.layers.0.self_attn.xq_proj")); // suffix must follow a dot
    assertEquals(2.0, qv.scaling());

    LoraConfig falcon = LoraConfig.of(16, 32, 0.05, List.of("query_key_value"));
    assertTrue(falcon.targets("transformer.h.3.self_attention.query_key_value"));
    assertFalse(falcon.targets("transformer.h.3.self_attention.dense"));

    LoraConfig all = LoraConfig.of(8, 16, 0, List.of("all-linear"));
    assertTrue(all.targets("model.layers.1.mlp.down_proj"));
    assertFalse(all.targets("lm_head"));

    LoraConfig regex = LoraConfig.of(8, 16, 0, List.of("re:.*layers\\.1\\..*_proj"));
    assertTrue(regex.targets("model.layers.1.mlp.up_proj"));
    assertFalse(regex.targets("model.layers.0.mlp.up_proj"));
  }

  @Test
  void badValuesNameTheValueAndTheFix() {
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> LoraConfig.of(0, 32, 0.05, List.of("q_proj")));
    assertTrue(e.getMessage().contains("got 0") && e.getMessage().contains("--r"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> LoraConfig.of(8, 0, 0.05, List.of("q")));
    assertThrows(IllegalArgumentException.class, () -> LoraConfig.of(8, 16, 1.0, List.of("q")));
    assertThrows(IllegalArgumentException.class, () -> LoraConfig.of(8, 16, 0, List.of()));
    assertThrows(
        IllegalArgumentException.class,
        () -> LoraConfig.of(8, 16, 0, List.of("all-linear", "q_proj")));
  }

  @Test
  void unmatchedTargetIsReportedWithTheModelsModules() {
    List<String> modules = List.of("model.layers.0.self_attn.q_proj", "model.layers.0.mlp.up_proj");
    LoraConfig c = LoraConfig.of(8, 16, 0, List.of("q_proj", "query_key_value"));
    assertEquals(List.of("query_key_value"), LoraLinearFactory.unmatchedTargets(c, modules));
    assertEquals(List.of("q_proj", "up_proj"), LoraLinearFactory.moduleSuffixes(modules));
  }
}
