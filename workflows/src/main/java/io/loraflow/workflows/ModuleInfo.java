package io.loraflow.workflows;

/** Placeholder so the module compiles; replaced by real code. */
final class ModuleInfo {
  private ModuleInfo() {}
}
