package io.loraflow.api.auth;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The scope a resource method (or every method of a resource class) needs; checked by {@link
 * ApiKeyFilter}. A method's annotation wins over its class's. A resource method without either is
 * refused (admin only), so a new endpoint cannot be open by accident.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface RequiresScope {
  Scope value();
}
