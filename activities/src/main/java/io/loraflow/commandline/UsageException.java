package io.loraflow.commandline;

/**
 * A command line that parsed but makes no sense (two spec files, a value out of range): printed
 * with the command's usage line, exit code {@link ExitCodes#USAGE}.
 */
public final class UsageException extends RuntimeException {
  public UsageException(String message) {
    super(message);
  }
}
