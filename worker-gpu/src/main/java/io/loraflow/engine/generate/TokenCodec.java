package io.loraflow.engine.generate;

/**
 * The two things generation needs from a tokenizer. Adapt any tokenizer with a lambda pair, e.g.
 * {@code TokenCodec.of(tok::encode, tok::decode)}.
 */
public interface TokenCodec {

  /** Text -> ids, adding the tokenizer's special tokens (BOS) as the model expects. */
  long[] encode(String text);

  /** ids -> text, special tokens skipped. */
  String decode(long[] ids);

  static TokenCodec of(
      java.util.function.Function<String, long[]> encode,
      java.util.function.Function<long[], String> decode) {
    return new TokenCodec() {
      @Override
      public long[] encode(String text) {
        return encode.apply(text);
      }

      @Override
      public String decode(long[] ids) {
        return decode.apply(ids);
      }
    };
  }
}
