package io.loraflow.infra;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against the real MinIO of {@code ./loraflow stack up}. */
class ObjectStoreIT {
  static ObjectStore store;
  static final String ROOT = "it/object-store/" + UUID.randomUUID() + "/";

  @TempDir Path tmp;

  @BeforeAll
  static void connect() {
    store =
        ObjectStore.connect(
            StackSettings.load()
                .requireReachable(Duration.ofSeconds(2), StackSettings.Server.MINIO));
  }

  @AfterAll
  static void cleanUp() {
    for (ObjectInfo info : store.list(ROOT)) {
      store.delete(info.key());
    }
    store.close();
  }

  @Test
  void putStatGetDeleteRoundTrip() {
    byte[] content = "hello, loraflow\n".getBytes(StandardCharsets.UTF_8);
    String key = ROOT + "round-trip/hello.txt";
    assertFalse(store.exists(key));
    assertEquals(Optional.empty(), store.stat(key));

    store.put(key, content);

    ObjectInfo info = store.stat(key).orElseThrow();
    assertEquals(content.length, info.size());
    // sha256 of "hello, loraflow\n" computed by sha256sum
    assertEquals(
        "e9c99d5f1567ff781d8457cb3bc6f94f274c653c475c01ca2bfaf044a0f608f5",
        info.sha256().orElseThrow());
    assertArrayEquals(content, store.getBytes(key));
    assertEquals(
        List.of(key), store.list(ROOT + "round-trip/").stream().map(ObjectInfo::key).toList());

    store.delete(key);
    assertFalse(store.exists(key));
    store.delete(key); // deleting twice is fine
  }

  @Test
  void filesAndStreamsRoundTrip() throws IOException {
    byte[] big = new byte[3 * 1024 * 1024 + 17];
    new java.util.Random(7).nextBytes(big);
    Path file = tmp.resolve("big.bin");
    Files.write(file, big);
    store.put(ROOT + "files/big.bin", file);
    Path back = tmp.resolve("back/big.bin");
    store.download(ROOT + "files/big.bin", back);
    assertArrayEquals(big, Files.readAllBytes(back));

    // unknown size: multipart upload
    store.put(
        ROOT + "files/stream.bin", new ByteArrayInputStream(big), -1, "application/octet-stream");
    assertArrayEquals(big, store.getBytes(ROOT + "files/stream.bin"));
  }

  @Test
  void contentAddressedObjectsAreNeverOverwritten() {
    String key = ROOT + "cas/object";
    assertTrue(store.putIfAbsent(key, "first".getBytes(StandardCharsets.UTF_8)).isPresent());
    assertTrue(store.putIfAbsent(key, "second".getBytes(StandardCharsets.UTF_8)).isEmpty());
    assertEquals("first", new String(store.getBytes(key), StandardCharsets.UTF_8));
  }

  @Test
  void missingObjectErrorNamesTheKey() {
    ObjectStoreException e =
        assertThrows(ObjectStoreException.class, () -> store.getBytes(ROOT + "no/such/key"));
    assertTrue(e.getMessage().contains("s3://" + store.bucket() + "/" + ROOT + "no/such/key"));
    assertTrue(e.getMessage().contains("NoSuchKey"), e.getMessage());
    java.nio.file.NoSuchFileException missing =
        assertThrows(
            java.nio.file.NoSuchFileException.class,
            () -> store.read("no-such-bucket-" + UUID.randomUUID(), "x.jsonl"));
    assertTrue(missing.getMessage().startsWith("s3://no-such-bucket-"), missing.getMessage());
  }

  @Test
  void blobReaderReadsDatasetObjects() throws IOException {
    store.put(ROOT + "datasets/faq.jsonl", "{\"q\":1}\n".getBytes(StandardCharsets.UTF_8));
    try (var in = store.read(store.bucket(), ROOT + "datasets/faq.jsonl")) {
      assertEquals("{\"q\":1}\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void publishedPrefixIsTrustedOnlyWithManifestAndMatchingFiles() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("ckpt"));
    Files.writeString(dir.resolve("lora.safetensors"), "weights-weights-weights");
    Files.createDirectories(dir.resolve("optimizer"));
    Files.writeString(dir.resolve("optimizer/state.bin"), "adam");
    Files.writeString(dir.resolve("manifest.json"), "{\"format\":\"engine\"}");
    PrefixPublisher publisher = new PrefixPublisher(store);
    String prefix = ROOT + "published/step-10";

    // a writer killed before the manifest: files there, prefix not trusted
    store.put(prefix + "/lora.safetensors", dir.resolve("lora.safetensors"));
    assertTrue(publisher.readComplete(prefix).isEmpty());

    // the hook runs after the files, before the manifest: the prefix is not yet trusted there
    boolean[] trustedInHook = {true};
    Manifest manifest =
        publisher.publish(
            dir,
            prefix,
            Map.of("step", "10"),
            () -> trustedInHook[0] = publisher.readComplete(prefix).isPresent());
    assertFalse(trustedInHook[0]);
    assertEquals(2, manifest.files().size());
    assertEquals("10", publisher.readComplete(prefix).orElseThrow().meta().get("step"));

    Path back = tmp.resolve("back");
    publisher.download(prefix, back);
    assertEquals("adam", Files.readString(back.resolve("optimizer/state.bin")));
    // the directory's own manifest comes back as it was
    assertEquals("{\"format\":\"engine\"}", Files.readString(back.resolve("manifest.json")));

    // a listed file replaced by different content: no longer trusted
    store.put(prefix + "/optimizer/state.bin", "ADAM".getBytes(StandardCharsets.UTF_8));
    assertTrue(publisher.readComplete(prefix).isEmpty());
    // a listed file missing: no longer trusted
    publisher.publish(dir, prefix, Map.of("step", "10"));
    assertTrue(publisher.readComplete(prefix).isPresent());
    store.delete(prefix + "/lora.safetensors");
    assertTrue(publisher.readComplete(prefix).isEmpty());
  }
}
