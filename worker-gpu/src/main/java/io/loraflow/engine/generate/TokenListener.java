package io.loraflow.engine.generate;

/** Receives each generated token as soon as it is chosen. */
@FunctionalInterface
public interface TokenListener {

  /**
   * @param sequence index of the prompt in the batch
   * @param tokenId the chosen id (EOS ids are not reported); -1 for the one final call that
   *     delivers text held back until the sequence ended
   * @param textDelta the text this token completes (may be empty while a multi-byte character or a
   *     possible stop string is still open; the rest arrives with later tokens or at the end)
   */
  void onToken(int sequence, long tokenId, String textDelta);

  TokenListener NONE = (sequence, tokenId, textDelta) -> {};
}
