package io.loraflow.api.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraflow.workflows.RunSpec;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetrainerTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static ObjectNode json(String s) throws Exception {
    return (ObjectNode) JSON.readTree(s);
  }

  @Test
  void mergePatchFollowsRfc7386() throws Exception {
    // RFC 7386 appendix A, a few of its cases
    ObjectNode target = json("{\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"}}");
    Retrainer.merge(target, json("{\"a\":\"z\",\"c\":{\"f\":null}}"));
    assertEquals(json("{\"a\":\"z\",\"c\":{\"d\":\"e\"}}"), target);
    ObjectNode t2 = json("{\"a\":[\"b\"]}");
    Retrainer.merge(t2, json("{\"a\":\"c\"}"));
    assertEquals(json("{\"a\":\"c\"}"), t2);
    ObjectNode t3 = json("{\"a\":\"foo\"}");
    Retrainer.merge(t3, json("{\"a\":{\"bb\":{\"ccc\":null}}}"));
    assertEquals(json("{\"a\":{\"bb\":{}}}"), t3);
  }

  @Test
  void applyKeepsTheSourceDropsItsNameAndTakesOverrides() throws Exception {
    RunSpec source =
        new RunSpec(
            "first",
            "builtin:ecommerce-faq",
            null,
            "smollm2-135m-instruct",
            null,
            null,
            0.2,
            null,
            null);
    RunSpec next =
        Retrainer.apply(source, "s3://b/new.jsonl", json("{\"training\":{\"epochs\":7}}"), null);
    assertNull(next.runName());
    assertEquals("s3://b/new.jsonl", next.dataset());
    assertEquals(7, next.training().epochs());
    assertEquals(0.2, next.evalFraction());
    assertEquals(source.training().learningRate(), next.training().learningRate());
    // null removes a field: back to its default
    assertEquals(
        0.1, Retrainer.apply(source, null, json("{\"evalFraction\":null}"), null).evalFraction());
  }

  @Test
  void intervalsAndVersionSelectors() {
    assertEquals(Duration.ofHours(24), Retrainer.interval("24h"));
    assertEquals(Duration.ofDays(7), Retrainer.interval("7d"));
    assertEquals(Duration.ofMinutes(90), Retrainer.interval("90m"));
    assertEquals(
        new VersionSelector("loraflow-x", "3", null),
        VersionSelector.parse("models:/loraflow-x/3"));
    assertEquals(
        new VersionSelector("loraflow-x", null, "champion"),
        VersionSelector.parse("loraflow-x@champion"));
    assertThrows(IllegalArgumentException.class, () -> VersionSelector.parse("models:/x"));
  }

  @Test
  void listQueryHasEveryFilterAndRejectsQuotes() {
    assertEquals(
        "WorkflowType = 'FineTune' AND LoraflowBaseModel = 'smollm2-135m-instruct'"
            + " AND ExecutionStatus = 'Running'",
        new RunFilter("smollm2-135m-instruct", null, "running", 10).toQuery());
    assertThrows(IllegalArgumentException.class, () -> new RunFilter("x' OR 1=1", null, null, 10));
    assertThrows(IllegalArgumentException.class, () -> new RunFilter(null, null, null, 0));
  }
}
