package io.loraflow.activities.cpu;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * The run bucket (default "loraflow", layout in {@link io.loraflow.workflows.StorageKeys}) as the
 * CPU activities need it. Implemented by the infrastructure's MinIO object store.
 */
public interface ArtifactStore {

  /** True when the object exists. */
  boolean exists(String key) throws IOException;

  /**
   * Opens an object; the caller closes the stream.
   *
   * @throws java.nio.file.NoSuchFileException when the key does not exist
   */
  InputStream get(String key) throws IOException;

  /** Writes (or replaces) an object from a local file. */
  void put(String key, Path file, String contentType) throws IOException;

  /** Writes (or replaces) an object from bytes. */
  void put(String key, byte[] bytes, String contentType) throws IOException;
}
