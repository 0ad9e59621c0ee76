package io.loraflow.engine.tokenizer;

/**
 * GPT-2's byte-to-unicode alphabet: each byte maps to a printable character, so byte-level BPE
 * tokens are strings. Tokens stored in another spelling are re-spelled byte by byte (as
 * transformers does when converting a GGUF vocabulary).
 */
final class ByteLevel {

  private static final char[] BYTE_TO_CHAR = new char[256];
  private static final boolean[] IN_ALPHABET = new boolean[0x200];

  static {
    int n = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      BYTE_TO_CHAR[b] = printable ? (char) b : (char) (256 + n++);
    }
    for (char c : BYTE_TO_CHAR) {
      IN_ALPHABET[c] = true;
    }
  }

  private ByteLevel() {}

  /** True when every character of {@code token} is in the byte-level alphabet. */
  static boolean isSpelled(String token) {
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c >= IN_ALPHABET.length || !IN_ALPHABET[c]) {
        return false;
      }
    }
    return true;
  }

  /**
   * The token in the byte-level alphabet: unchanged if already spelled so, else its UTF-8 bytes.
   */
  static String spell(String token) {
    if (isSpelled(token)) {
      return token;
    }
    StringBuilder sb = new StringBuilder();
    for (byte b : token.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      sb.append(BYTE_TO_CHAR[b & 0xff]);
    }
    return sb.toString();
  }
}
