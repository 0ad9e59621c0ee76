package io.loraflow.activities.dataset;

import java.io.IOException;
import java.io.InputStream;

/**
 * Reads objects of any bucket, for {@code s3://bucket/key} dataset URIs. Implemented by the
 * infrastructure's object store (MinIO); tests use a map.
 */
public interface BlobReader {

  /**
   * Opens an object for reading; the caller closes the stream.
   *
   * @throws java.nio.file.NoSuchFileException when the bucket or key does not exist (the message
   *     names {@code s3://bucket/key})
   * @throws IOException when the store cannot be reached
   */
  InputStream read(String bucket, String key) throws IOException;
}
