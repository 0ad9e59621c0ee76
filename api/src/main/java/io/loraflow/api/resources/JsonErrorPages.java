package io.loraflow.api.resources;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraflow.api.api.ErrorBody;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's own error answers (a request it refuses before Jersey sees it: an ambiguous or suspicious
 * path encoding, a bad header) as the API's JSON {@link ErrorBody} instead of an HTML page, without
 * echoing the request.
 */
public final class JsonErrorPages extends ErrorHandler {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A JSON body for every method (Jetty's default writes none for DELETE, PUT, ...). */
  @Override
  public boolean errorPageForMethod(String method) {
    return true;
  }

  @Override
  protected void generateResponse(
      Request request,
      Response response,
      int code,
      String message,
      Throwable cause,
      Callback callback)
      throws IOException {
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.write(true, ByteBuffer.wrap(body(code, message)), callback);
  }

  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    fields.put(new HttpField(HttpHeader.CONTENT_TYPE, "application/json"));
    return ByteBuffer.wrap(body(status, reason));
  }

  static byte[] body(int code, String message) {
    String text =
        (message == null || message.isBlank() ? HttpStatus.getMessage(code) : message)
            + (code == 400 ? "; the request was refused before it reached the API" : "");
    try {
      return JSON.writeValueAsBytes(ErrorBody.of(code, text));
    } catch (IOException e) {
      return ("{\"code\":" + code + ",\"message\":\"error\"}").getBytes();
    }
  }
}
