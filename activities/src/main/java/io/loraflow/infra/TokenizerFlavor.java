package io.loraflow.infra;

/**
 * DJL's HuggingFace tokenizer picks a native flavour when it first loads: on a host with CUDA it
 * asks for a CUDA build and downloads it ({@code Cannot download jni files: .../cu122-90/...} on a
 * GPU host without internet). Tokenizing needs no GPU, and the jar bundles the CPU library, so the
 * workers pin {@code RUST_FLAVOR=cpu} themselves before any tokenizer loads. An explicit {@code
 * RUST_FLAVOR} in the environment or as a system property wins.
 */
public final class TokenizerFlavor {
  static final String KEY = "RUST_FLAVOR";

  private TokenizerFlavor() {}

  /** Sets the system property DJL reads (environment first, then this property). */
  public static void useCpuUnlessSet() {
    String env = System.getenv(KEY);
    if ((env == null || env.isBlank()) && System.getProperty(KEY) == null) {
      System.setProperty(KEY, "cpu");
    }
  }

  /** The flavour DJL will use, as it resolves it. */
  public static String effective() {
    String env = System.getenv(KEY);
    return env != null && !env.isBlank() ? env : System.getProperty(KEY);
  }
}
