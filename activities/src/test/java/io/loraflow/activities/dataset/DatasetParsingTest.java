package io.loraflow.activities.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loraflow.workflows.FailureTypes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Parsing, validation and normalization on in-memory bytes (no fetching). */
class DatasetParsingTest {

  private final DatasetPreparer preparer =
      new DatasetPreparer(DatasetConfig.defaults(List.of(Path.of("/nonexistent"))), null);

  private PreparedDataset prepare(String name, String text, String format) {
    return prepare(name, text.getBytes(StandardCharsets.UTF_8), format);
  }

  private PreparedDataset prepare(String name, byte[] bytes, String format) {
    return preparer.prepare(new FetchedDataset("test:" + name, name, bytes), format);
  }

  private DatasetException fails(String name, String text, String format) {
    return assertThrows(DatasetException.class, () -> prepare(name, text, format));
  }

  private static void contains(DatasetException e, String... parts) {
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }
  }

  @Test
  void nestedJsonIsTheReferenceShape() {
    String text =
        "{\"questions\": [\n"
            + "  {\"question\": \" How long is shipping? \", \"answer\": \"3-5 days.\\r\\nUsually.\"},\n"
            + "  {\"question\": \"Can I return?\", \"answer\": \"Within 30 days.\"}\n"
            + "]}";
    PreparedDataset d = prepare("faq.json", text, "auto");
    assertEquals("nested-json", d.stats().format());
    assertEquals(2, d.pairs().size());
    assertEquals("How long is shipping?", d.pairs().get(0).question());
    assertEquals("3-5 days.\nUsually.", d.pairs().get(0).answer());
    assertEquals(3, d.pairs().get(1).line());
    assertEquals(
        "{\"question\":\"How long is shipping?\",\"answer\":\"3-5 days.\\nUsually.\"}\n"
            + "{\"question\":\"Can I return?\",\"answer\":\"Within 30 days.\"}\n",
        new String(d.jsonl(), StandardCharsets.UTF_8));
    // sha256 of the normalized bytes, as `sha256sum` computes it
    assertEquals(DatasetPreparer.sha256(d.jsonl()), d.sha256());
  }

  @Test
  void sameExamplesInEveryFormatHashTheSame() {
    String nested =
        "{\"questions\":[{\"question\":\"Q1, with comma\",\"answer\":\"A \\\"quoted\\\"\\nline 2\"},"
            + "{\"question\":\"Q2\",\"answer\":\"A2\"}]}";
    String jsonl =
        "{\"question\":\"Q1, with comma\",\"answer\":\"A \\\"quoted\\\"\\nline 2\"}\n"
            + "\n{\"question\":\"Q2\",\"answer\":\"A2\"}\n";
    String csv =
        "id,question,answer\r\n1,\"Q1, with comma\",\"A \"\"quoted\"\"\r\nline 2\"\r\n2,Q2,A2\r\n";
    String alpaca =
        "[{\"instruction\":\"Q1, with comma\",\"input\":\"\",\"output\":\"A \\\"quoted\\\"\\nline 2\"},"
            + "{\"instruction\":\"Q2\",\"output\":\"A2\"}]";
    String chat =
        "{\"messages\":[{\"role\":\"system\",\"content\":\"be nice\"},{\"role\":\"user\",\"content\":\"Q1, with comma\"},"
            + "{\"role\":\"assistant\",\"content\":\"A \\\"quoted\\\"\\nline 2\"},"
            + "{\"role\":\"user\",\"content\":\"Q2\"},{\"role\":\"assistant\",\"content\":\"A2\"}]}\n";
    String expected = prepare("a.json", nested, "auto").sha256();
    assertEquals(expected, prepare("b.jsonl", jsonl, "auto").sha256());
    assertEquals(expected, prepare("c.csv", csv, "auto").sha256());
    assertEquals(expected, prepare("d", csv, "csv").sha256());
    assertEquals(expected, prepare("e.json", alpaca, "alpaca").sha256());
    assertEquals(expected, prepare("f.json", alpaca, "auto").sha256());
    assertEquals(expected, prepare("g.jsonl", chat, "chat").sha256());
    assertEquals("jsonl+chat", prepare("h.jsonl", chat, "auto").stats().format());
    assertEquals("json-array+alpaca", prepare("f.json", alpaca, "auto").stats().format());
  }

  @Test
  void alpacaInputIsAppendedToTheInstruction() {
    var d =
        prepare(
            "x.jsonl",
            "{\"instruction\":\"Translate\",\"input\":\"hola\",\"output\":\"hello\"}",
            "auto");
    assertEquals("Translate\n\nhola", d.pairs().get(0).question());
  }

  @Test
  void malformedJsonNamesLineAndColumn() {
    var e =
        fails(
            "bad.json",
            "{\"questions\": [\n {\"question\": \"a\", \"answer\": \"b\"},\n {\"question\": \"c\" \"answer\": \"d\"}\n]}",
            "auto");
    assertEquals(FailureTypes.INVALID_DATASET, e.type());
    contains(e, "malformed JSON at line 3, column", "(after record 1)");
  }

  @Test
  void malformedJsonlNamesEveryBadLine() {
    var e =
        fails(
            "bad.jsonl",
            "{\"question\":\"a\",\"answer\":\"b\"}\n{\"question\":\"c\",\n{oops}\n",
            "auto");
    contains(e, "2 problems", "record 2 (line 2): malformed JSON at column", "record 3 (line 3)");
  }

  @Test
  void missingWrongTypeAndBlankFieldsAreRecordPrecise() {
    String text =
        "{\"questions\":[\n"
            + "{\"question\":\"ok\",\"answer\":\"fine\"},\n"
            + "{\"question\":\"no answer\"},\n"
            + "{\"question\":\"number\",\"answer\":42},\n"
            + "{\"question\":\"  \",\"answer\":\"blank question\"}\n"
            + "]}";
    var e = fails("f.json", text, "nested-json");
    contains(
        e,
        "3 problems",
        "record 2 (line 3): missing field \"answer\" (record keys: [question])",
        "record 3 (line 4): field \"answer\" must be a string, got number",
        "record 4 (line 5): field \"question\" is blank");
  }

  @Test
  void emptyDatasets() {
    contains(fails("e.json", "   \n", "auto"), "is empty");
    contains(fails("e.json", "{\"questions\": []}", "auto"), "has no records");
    contains(fails("e.json", "{\"items\": []}", "auto"), "no \"questions\" array (keys: [items])");
    contains(fails("e.csv", "question,answer\n", "auto"), "has no records");
  }

  @Test
  void nonUtf8BytesNameTheByteOffset() {
    byte[] bytes =
        "{\"questions\":[{\"question\":\"caf\u00e9\",\n\"answer\":\"x"
            .getBytes(StandardCharsets.UTF_8);
    byte[] bad = new byte[bytes.length + 3];
    System.arraycopy(bytes, 0, bad, 0, bytes.length);
    bad[bytes.length] = (byte) 0xE9; // Latin-1 é
    bad[bytes.length + 1] = '"';
    bad[bytes.length + 2] = '}';
    var e = assertThrows(DatasetException.class, () -> prepare("latin1.json", bad, "auto"));
    contains(e, "not valid UTF-8: byte offset " + bytes.length + " (line 2) holds 0xE9");
  }

  @Test
  void exactRepeatsAreRemovedAndContradictionsRejected() {
    String repeats =
        "{\"question\":\"Where is my order?\",\"answer\":\"Check My Account.\"}\n"
            + "{\"question\":\"where is  MY order?\",\"answer\":\"Check My Account.\"}\n"
            + "{\"question\":\"Other\",\"answer\":\"x\"}\n";
    var d = prepare("r.jsonl", repeats, "auto");
    assertEquals(2, d.pairs().size());
    assertEquals(1, d.stats().duplicatesRemoved());

    String conflict = repeats + "{\"question\":\"Where is my order?\",\"answer\":\"No idea.\"}\n";
    contains(
        fails("c.jsonl", conflict, "auto"),
        "record 4 (line 4): question repeats record 1 (line 1) with a different answer");
  }

  @Test
  void oversizedAnswerIsRejectedWithItsSize() {
    String big = "x".repeat(10 * 1024 * 1024);
    var e = fails("big.jsonl", "{\"question\":\"q\",\"answer\":\"" + big + "\"}", "auto");
    contains(
        e,
        "record 1 (line 1): field \"answer\" is 10485760 characters, over the 65536-character limit");
  }

  @Test
  void csvQuotingErrorsAndShapeErrors() {
    contains(
        fails("q.csv", "question,answer\n\"open,never closed\n", "auto"),
        "quote opened on line 2 is never closed");
    contains(
        fails("q.csv", "question,answer\na,b,c\n", "auto"),
        "record 1 (line 2): has 3 fields, the header has 2");
    contains(fails("q.csv", "q,a\nx,y\n", "csv"), "needs \"question\" and \"answer\" columns");
    var multiline =
        prepare("m.csv", "question,answer\n\"multi\nline\",\"a\"\"b\"\nnext,row", "auto");
    assertEquals("multi\nline", multiline.pairs().get(0).question());
    assertEquals("a\"b", multiline.pairs().get(0).answer());
    assertEquals(4, multiline.pairs().get(1).line());
  }

  @Test
  void chatWithoutAnAnswerIsRejected() {
    contains(
        fails("c.jsonl", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "auto"),
        "record 1 (line 1): no user message directly followed by an assistant message");
  }

  @Test
  void unknownShapeTellsWhatToDo() {
    contains(fails("x.txt", "hello world", "auto"), "cannot tell the format", "set datasetFormat");
  }

  @Test
  void builtinSampleIsAValidRichDataset() {
    var fetcher = new DatasetFetcher(DatasetConfig.defaults(List.of()), null);
    var d = preparer.prepare(fetcher.fetch("builtin:ecommerce-faq"), "auto");
    assertEquals("nested-json", d.stats().format());
    assertTrue(d.pairs().size() >= 80, "only " + d.pairs().size() + " pairs");
    assertEquals(0, d.stats().duplicatesRemoved());
    assertTrue(d.stats().meanAnswerChars() > 80, "answers too short: " + d.stats());
  }
}
