package io.loraflow.engine.generate;

/**
 * One generated continuation.
 *
 * @param promptTokens length of the prompt in tokens
 * @param tokens generated ids, without the EOS that ended it
 * @param text decoded {@code tokens}, cut before a stop string; null when no codec was given
 * @param finish why it ended
 */
public record Generation(int promptTokens, long[] tokens, String text, Finish finish) {

  /** Why a sequence stopped. */
  public enum Finish {
    EOS,
    STOP_STRING,
    LENGTH
  }
}
