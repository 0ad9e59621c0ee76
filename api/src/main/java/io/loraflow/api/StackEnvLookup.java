package io.loraflow.api;

import io.loraflow.infra.StackEnvFile;
import java.nio.file.Path;
import java.util.Map;
import org.apache.commons.text.StringSubstitutor;
import org.apache.commons.text.lookup.StringLookup;

/**
 * Resolves {@code ${NAME}} in the configuration file from the environment first, then from the
 * {@code stack.env} that {@code loraflow stack up} writes into the state directory (see {@link
 * #stateDir}). So {@code loraflow server} finds the local stack without sourcing anything, and an
 * explicit environment variable always wins.
 */
public final class StackEnvLookup implements StringLookup {

  private final Map<String, String> env;
  private final Map<String, String> stackEnv;

  public StackEnvLookup(Map<String, String> env) {
    this.env = Map.copyOf(env);
    this.stackEnv = StackEnvFile.readIfPresent(stackEnvFile(env));
  }

  /** {@code <state dir>/stack.env}. */
  public static Path stackEnvFile(Map<String, String> env) {
    return StackEnvFile.path(env);
  }

  /** The state directory, as {@link StackEnvFile#stateDir} finds it. */
  public static Path stateDir(Map<String, String> env) {
    return StackEnvFile.stateDir(env);
  }

  @Override
  public String lookup(String key) {
    String value = env.get(key);
    return value != null && !value.isEmpty() ? value : stackEnv.get(key);
  }

  /**
   * A strict substitutor: {@code ${NAME:-default}} takes the default, a bare {@code ${NAME}} that
   * is not set anywhere fails startup with the variable's name.
   */
  public StringSubstitutor substitutor() {
    return new StringSubstitutor(this)
        .setEnableUndefinedVariableException(true)
        .setEnableSubstitutionInVariables(true);
  }
}
