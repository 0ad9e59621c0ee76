package io.loraflow.api.api;

import io.loraflow.workflows.RunSpec;
import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bean Validation of a {@link RunSpec}: one violation per {@link RunSpec#problems()} entry, on the
 * field the problem names (e.g. {@code training.learningRate}), so a 400 lists every bad field at
 * once. The rules live in the record (shared with the workflow), not here.
 */
@Target({ElementType.PARAMETER, ElementType.FIELD, ElementType.TYPE_USE})
@Retention(RetentionPolicy.RUNTIME)
@Constraint(validatedBy = ValidRunSpec.Validator.class)
public @interface ValidRunSpec {
  String message() default "invalid run spec";

  Class<?>[] groups() default {};

  Class<? extends Payload>[] payload() default {};

  /** Checks the spec; null passes (pair with {@code @NotNull}). */
  final class Validator implements ConstraintValidator<ValidRunSpec, RunSpec> {

    /** A problem sentence starts with its field path: "training.epochs must be in ...". */
    private static final Pattern FIELD =
        Pattern.compile("^([a-z][A-Za-z]*(?:\\.[a-z][A-Za-z]*)*)\\b");

    @Override
    public boolean isValid(RunSpec spec, ConstraintValidatorContext context) {
      if (spec == null) {
        return true;
      }
      List<String> problems = spec.problems();
      if (problems.isEmpty()) {
        return true;
      }
      context.disableDefaultConstraintViolation();
      for (String problem : problems) {
        context
            .buildConstraintViolationWithTemplate(escape(problem))
            .addPropertyNode(fieldOf(problem))
            .addConstraintViolation();
      }
      return false;
    }

    public static String fieldOf(String problem) {
      Matcher m = FIELD.matcher(problem);
      return m.find() ? m.group(1) : "spec";
    }

    /** Problems quote templates like "{q}": keep them literal, not message parameters. */
    static String escape(String text) {
      return text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}").replace("$", "\\$");
    }
  }
}
