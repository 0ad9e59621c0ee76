package io.loraflow.api.resources;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.loraflow.api.api.ErrorBody;
import io.loraflow.api.core.JsonPaths;
import jakarta.annotation.Priority;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import java.util.List;

/**
 * A body that is not valid JSON, or not the expected shape: 400 naming the JSON path, what was
 * wrong and, for unknown fields, the known ones (so "epoch" points at "epochs").
 */
@Priority(1)
public final class JsonErrorMapper implements ExceptionMapper<JsonProcessingException> {

  @Override
  public Response toResponse(JsonProcessingException e) {
    ErrorBody body;
    if (e instanceof UnrecognizedPropertyException u) {
      String field = JsonPaths.of(u.getPath());
      body =
          new ErrorBody(
              400,
              "unknown field '" + field + "'",
              List.of(
                  new ErrorBody.FieldError(
                      field, "unknown field; known here: " + u.getKnownPropertyIds(), null)));
    } else if (e instanceof InvalidFormatException f) {
      String field = JsonPaths.of(f.getPath());
      body =
          new ErrorBody(
              400,
              "wrong type at '" + field + "'",
              List.of(
                  new ErrorBody.FieldError(
                      field,
                      "expected " + f.getTargetType().getSimpleName(),
                      String.valueOf(f.getValue()))));
    } else if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
      String field = JsonPaths.of(m.getPath());
      body =
          new ErrorBody(
              400,
              "wrong type at '" + field + "'",
              List.of(
                  new ErrorBody.FieldError(
                      field, "expected " + m.getTargetType().getSimpleName(), null)));
    } else if (e instanceof JsonMappingException m) {
      String field = JsonPaths.of(m.getPath());
      body =
          new ErrorBody(
              400,
              "cannot read '" + field + "'",
              List.of(new ErrorBody.FieldError(field, m.getOriginalMessage(), null)));
    } else {
      body = ErrorBody.of(400, "request body is not valid JSON: " + e.getOriginalMessage());
    }
    return Response.status(400).type(MediaType.APPLICATION_JSON_TYPE).entity(body).build();
  }
}
