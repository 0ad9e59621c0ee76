package io.loraflow.api.resources;

import io.dropwizard.jersey.validation.ConstraintMessage;
import io.dropwizard.jersey.validation.JerseyViolationException;
import io.loraflow.api.api.ErrorBody;
import jakarta.annotation.Priority;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ElementKind;
import jakarta.validation.Path;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Bean Validation failures become 400 with one entry per bad field, named by its JSON path (for the
 * body) or its parameter name. Replaces Dropwizard's 422 mapper (higher priority).
 */
@Priority(1)
public final class ViolationMapper implements ExceptionMapper<JerseyViolationException> {

  @Override
  public Response toResponse(JerseyViolationException e) {
    List<ErrorBody.FieldError> errors = new ArrayList<>();
    for (ConstraintViolation<?> v : e.getConstraintViolations()) {
      boolean entity = ConstraintMessage.isRequestEntity(v, e.getInvocable()).isPresent();
      Object value = v.getInvalidValue();
      boolean scalar = value == null || value instanceof String || value instanceof Number;
      errors.add(
          new ErrorBody.FieldError(
              field(v.getPropertyPath(), entity), v.getMessage(), scalar ? value : null));
    }
    errors.sort(Comparator.comparing(ErrorBody.FieldError::field));
    String message =
        errors.size() == 1
            ? "invalid request: " + StrictJsonBodies.sentence(errors.get(0))
            : "invalid request: " + errors.size() + " problems";
    return Response.status(Response.Status.BAD_REQUEST)
        .type(MediaType.APPLICATION_JSON_TYPE)
        .entity(new ErrorBody(400, message, errors))
        .build();
  }

  /** {@code start.spec.training.epochs} -> {@code training.epochs}; a query param -> its name. */
  static String field(Path path, boolean entity) {
    List<String> names = new ArrayList<>();
    for (Path.Node node : path) {
      if (node.getKind() == ElementKind.METHOD || node.getKind() == ElementKind.CONSTRUCTOR) {
        continue;
      }
      if (node.getKind() == ElementKind.PARAMETER && entity) {
        continue; // the body's parameter name is not part of the JSON
      }
      if (node.getName() == null || node.getName().isEmpty()) {
        continue;
      }
      String name = node.getName();
      if (node.getIndex() != null && !names.isEmpty()) {
        int last = names.size() - 1;
        names.set(last, names.get(last) + "[" + node.getIndex() + "]");
      }
      names.add(name);
    }
    return names.isEmpty() ? "(body)" : String.join(".", names);
  }
}
