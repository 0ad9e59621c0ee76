package io.loraflow.deploy;

/** Placeholder so the module compiles; replaced by real code. */
final class ModuleInfo {
  private ModuleInfo() {}
}
