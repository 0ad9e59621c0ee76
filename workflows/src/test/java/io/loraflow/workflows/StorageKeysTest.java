package io.loraflow.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class StorageKeysTest {
  @Test
  void anAdapterPrefixGivesItsRunBack() {
    String run = "finetune-smollm2-135m-instruct-f05641de-20261201-213134";
    assertEquals(Optional.of(run), StorageKeys.adapterRunId(StorageKeys.adapterPrefix(run)));
    // a sweep registers its best child's adapter: the child's id, not the sweep's
    assertEquals(Optional.of("sweep-x-c3"), StorageKeys.adapterRunId("runs/sweep-x-c3/adapter/"));
  }

  @Test
  void otherKeysGiveNothing() {
    for (String key :
        new String[] {
          null,
          "",
          "runs//adapter/",
          "runs/a/b/adapter/",
          "runs/a/adapter/adapter_model.safetensors",
          "models/a/adapter/",
          "runs/a/checkpoints/step-20/",
          "runs/../adapter/"
        }) {
      assertEquals(Optional.empty(), StorageKeys.adapterRunId(key), String.valueOf(key));
    }
  }
}
