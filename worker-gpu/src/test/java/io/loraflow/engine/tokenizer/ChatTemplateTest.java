package io.loraflow.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.engine.io.Fixtures;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Java rendering against Jinja2's rendering of the same templates (fixture). */
class ChatTemplateTest {

  @Test
  void rendersLikeJinja() throws IOException {
    JsonNode root =
        new ObjectMapper().readTree(Fixtures.resource("tokenizer/chat_templates.json").toFile());
    int checked = 0;
    for (JsonNode c : root.get("cases")) {
      String name = c.get("template").asText();
      String template = root.get("templates").get(name).asText();
      JsonNode tokens = root.get("tokens").get(name);
      ChatTemplate t =
          ChatTemplate.detect(template, tokens.get(0).asText(), tokens.get(1).asText());
      List<ChatMessage> messages = new ArrayList<>();
      for (JsonNode m : c.get("messages")) {
        messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
      }
      boolean gen = c.get("add_generation_prompt").asBoolean();
      String what = name + " " + c.get("messages") + " gen=" + gen;
      if (c.get("error").isNull()) {
        assertEquals(c.get("expected").asText(), t.render(messages, gen), what);
      } else {
        IllegalArgumentException e =
            assertThrows(IllegalArgumentException.class, () -> t.render(messages, gen), what);
        assertEquals(c.get("error").asText(), e.getMessage(), what);
      }
      checked++;
    }
    assertEquals(30, checked);
  }

  @Test
  void detectsFamiliesAndSmolLm2DefaultSystemPrompt() throws IOException {
    JsonNode templates =
        new ObjectMapper()
            .readTree(Fixtures.resource("tokenizer/chat_templates.json").toFile())
            .get("templates");
    ChatTemplate smol = ChatTemplate.detect(templates.get("smollm2").asText(), "", "");
    assertEquals(ChatTemplate.Family.CHATML, smol.family());
    assertEquals(
        "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
        smol.defaultSystem());
    assertEquals(
        ChatTemplate.Family.LLAMA3,
        ChatTemplate.detect(templates.get("llama3").asText(), "", "").family());
    assertEquals(
        ChatTemplate.Family.MISTRAL,
        ChatTemplate.detect(templates.get("mistral").asText(), "", "").family());
    assertEquals(
        ChatTemplate.Family.FALCON,
        ChatTemplate.detect(templates.get("falcon").asText(), "", "").family());
  }

  @Test
  void unknownTemplateSuggestsTemplateFlag() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ChatTemplate.detect("{{ '### Instruction: ' + messages[0]['content'] }}", "", ""));
    assertTrue(e.getMessage().contains("--template"), e.getMessage());
    assertTrue(e.getMessage().contains("### Instruction"), e.getMessage());
  }
}
