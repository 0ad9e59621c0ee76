package io.loraflow.api.core;

import com.fasterxml.jackson.databind.JsonMappingException;
import java.util.List;

/** The JSON path of a Jackson error, e.g. {@code training.targetModules[2]}. */
public final class JsonPaths {
  private JsonPaths() {}

  public static String of(List<JsonMappingException.Reference> path) {
    StringBuilder b = new StringBuilder();
    for (JsonMappingException.Reference r : path) {
      if (r.getFieldName() != null) {
        if (b.length() > 0) {
          b.append('.');
        }
        b.append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      }
    }
    return b.length() == 0 ? "(body)" : b.toString();
  }
}
