package io.loraflow.workflows.admission;

/**
 * The gate's answer to a run, signalled to it.
 *
 * @param granted true: the run may go on (and must release its slot when it ends); false: refused
 * @param message why it was refused (empty when granted)
 */
public record Admission(boolean granted, String message) {

  /** The name of the run's signal that carries it ({@code FineTune}'s {@code admission}). */
  public static final String SIGNAL = "admission";

  public Admission {
    message = message == null ? "" : message;
  }

  public static Admission grant() {
    return new Admission(true, "");
  }
}
