package io.loraflow.activities.cpu;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Test support: an {@link ArtifactStore} on a local directory (key = relative path), so the CPU
 * activities' unit tests run without MinIO (the product always uses the MinIO object store; the ITs
 * use a real one). Writes go to a temporary file first and are moved into place.
 */
public final class LocalDirArtifactStore implements ArtifactStore {

  private final Path root;

  public LocalDirArtifactStore(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  private Path path(String key) {
    Path p = root.resolve(key).normalize();
    if (!p.startsWith(root) || key.startsWith("/")) {
      throw new IllegalArgumentException("key '" + key + "' escapes the store root " + root);
    }
    return p;
  }

  @Override
  public boolean exists(String key) {
    return Files.isRegularFile(path(key));
  }

  @Override
  public InputStream get(String key) throws IOException {
    Path p = path(key);
    if (!Files.isRegularFile(p)) {
      throw new NoSuchFileException(key, null, "no such object in " + root);
    }
    return Files.newInputStream(p);
  }

  @Override
  public void put(String key, Path file, String contentType) throws IOException {
    Path target = path(key);
    Files.createDirectories(target.getParent());
    Path tmp = Files.createTempFile(target.getParent(), ".put-", ".tmp");
    Files.copy(file, tmp, StandardCopyOption.REPLACE_EXISTING);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  @Override
  public void put(String key, byte[] bytes, String contentType) throws IOException {
    Path target = path(key);
    Files.createDirectories(target.getParent());
    Path tmp = Files.createTempFile(target.getParent(), ".put-", ".tmp");
    Files.write(tmp, bytes);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
