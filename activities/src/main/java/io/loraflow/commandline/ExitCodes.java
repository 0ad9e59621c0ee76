package io.loraflow.commandline;

/** The exit codes of every loraflow command (also printed by {@code loraflow --help}). */
public final class ExitCodes {

  /** Done; for {@code run}/{@code status}: the run is RUNNING or COMPLETED. */
  public static final int OK = 0;

  /**
   * The command ran and the thing failed: the run FAILED, was CANCELED or TERMINATED; a server
   * (Temporal, MinIO, MLflow) was not reachable; the input was rejected by the service.
   */
  public static final int FAILED = 1;

  /** Bad command line: unknown command or option, missing or malformed value (nothing was done). */
  public static final int USAGE = 2;

  /** Stopped by Ctrl-C / SIGINT (128 + 2). */
  public static final int INTERRUPTED = 130;

  /** The exit-code paragraph of the help texts. */
  public static final String HELP =
      "exit codes: 0 ok (a followed run RUNNING or COMPLETED); 1 failed (the run failed or was"
          + " cancelled, a server not reachable, input rejected); 2 usage error (unknown command"
          + " or option, bad value; nothing was done); 130 interrupted (Ctrl-C)";

  private ExitCodes() {}
}
