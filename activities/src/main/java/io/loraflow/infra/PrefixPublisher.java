package io.loraflow.infra;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Publishes a local directory as a prefix of the store all-or-nothing for readers: every file is
 * uploaded first, the {@link Manifest} last. Readers only trust a prefix whose manifest exists and
 * whose files match the manifest's sizes and SHA-256s; a writer killed half-way leaves a prefix
 * without manifest that readers ignore and a retry overwrites.
 */
public final class PrefixPublisher {
  private final ObjectStore store;

  public PrefixPublisher(ObjectStore store) {
    this.store = store;
  }

  /**
   * Uploads every regular file under {@code dir} to {@code prefix/<relative path>}, then the
   * manifest. If {@code prefix} is already complete with the same content, nothing is written.
   *
   * @param prefix key prefix without trailing slash, e.g. {@code runs/r1/checkpoints/step-20}
   */
  public Manifest publish(Path dir, String prefix, Map<String, String> meta) {
    return publish(dir, prefix, meta, () -> {});
  }

  /**
   * {@link #publish(Path, String, Map)} with {@code beforeManifest} run after the files and before
   * the manifest (fault injection in tests: a writer killed there must leave an untrusted prefix).
   */
  public Manifest publish(
      Path dir, String prefix, Map<String, String> meta, Runnable beforeManifest) {
    List<Manifest.Entry> entries = new ArrayList<>();
    List<Path> files = new ArrayList<>(filesUnder(dir));
    // the directory's own manifest (an engine checkpoint has one) travels inside ours, so it is
    // written last in the store too and comes back last on download
    Path ownManifest = dir.resolve(Manifest.FILE_NAME);
    String localManifest = null;
    if (files.remove(ownManifest)) {
      try {
        localManifest = Files.readString(ownManifest, java.nio.charset.StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException("nothing to publish: " + dir + " has no files");
    }
    for (Path file : files) {
      String rel = dir.relativize(file).toString().replace('\\', '/');
      try {
        entries.add(new Manifest.Entry(rel, Files.size(file), Sha256.hex(file)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    Optional<Manifest> existing = readComplete(prefix);
    if (existing.isPresent()
        && existing.get().files().equals(entries)
        && java.util.Objects.equals(existing.get().localManifest(), localManifest)) {
      return existing.get(); // a retry of a publish that already finished
    }
    for (Path file : files) {
      store.put(key(prefix, dir.relativize(file).toString().replace('\\', '/')), file);
    }
    beforeManifest.run();
    Manifest manifest =
        new Manifest(
            Manifest.CURRENT_VERSION, Instant.now().toString(), entries, meta, localManifest);
    store.put(key(prefix, Manifest.FILE_NAME), manifest.toJson());
    return manifest;
  }

  /**
   * The manifest of {@code prefix} if the prefix is complete: the manifest exists and every listed
   * file exists with the listed size (and SHA-256, where the object carries one).
   */
  public Optional<Manifest> readComplete(String prefix) {
    String manifestKey = key(prefix, Manifest.FILE_NAME);
    if (!store.exists(manifestKey)) {
      return Optional.empty();
    }
    Manifest manifest = Manifest.fromJson(store.getBytes(manifestKey), store.uri(manifestKey));
    for (Manifest.Entry entry : manifest.files()) {
      Optional<ObjectInfo> info = store.stat(key(prefix, entry.path()));
      if (info.isEmpty()
          || info.get().size() != entry.size()
          || info.get().sha256().map(s -> !s.equals(entry.sha256())).orElse(false)) {
        return Optional.empty();
      }
    }
    return Optional.of(manifest);
  }

  /**
   * Downloads a complete prefix into {@code dir}, verifying every file's SHA-256 while streaming.
   *
   * @throws IllegalStateException if the prefix is not complete or a file does not match
   */
  public Manifest download(String prefix, Path dir) {
    Manifest manifest =
        readComplete(prefix)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        store.uri(prefix) + "/ is not a complete published prefix (no manifest)"));
    try {
      Files.createDirectories(dir);
      for (Manifest.Entry entry : manifest.files()) {
        Path target = dir.resolve(entry.path()).normalize();
        if (!target.startsWith(dir.normalize())) {
          throw new IllegalStateException(
              "manifest of " + store.uri(prefix) + " names a path outside: " + entry.path());
        }
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), ".dl-", ".part");
        MessageDigest digest = Sha256.newDigest();
        try (InputStream in =
            new DigestInputStream(store.open(key(prefix, entry.path())), digest)) {
          Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        String sha = HexFormat.of().formatHex(digest.digest());
        if (!sha.equals(entry.sha256())) {
          Files.deleteIfExists(tmp);
          throw new IllegalStateException(
              store.uri(key(prefix, entry.path()))
                  + " has sha256 "
                  + sha
                  + " but its manifest says "
                  + entry.sha256());
        }
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      if (manifest.localManifest() != null) {
        Files.writeString(
            dir.resolve(Manifest.FILE_NAME),
            manifest.localManifest(),
            java.nio.charset.StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot download " + store.uri(prefix) + " to " + dir, e);
    }
    return manifest;
  }

  /** Deletes every object under {@code prefix/}, the manifest first so readers stop trusting it. */
  public void delete(String prefix) {
    store.delete(key(prefix, Manifest.FILE_NAME));
    for (ObjectInfo info : store.list(prefix + "/")) {
      store.delete(info.key());
    }
  }

  public static String key(String prefix, String relative) {
    return prefix.endsWith("/") ? prefix + relative : prefix + "/" + relative;
  }

  private static List<Path> filesUnder(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }
}
