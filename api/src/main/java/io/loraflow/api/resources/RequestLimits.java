package io.loraflow.api.resources;

import io.loraflow.api.api.ErrorBody;
import jakarta.annotation.Priority;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Bounds every request body: a declared {@code Content-Length} over the limit is refused before a
 * byte is read, and a body without one (chunked) stops with the same 413 when it passes the limit.
 * Field limits are in the OpenAPI schemas ({@link SchemaCheck}); together they keep any request a
 * client can send far below Temporal's 4 MB gRPC message limit.
 */
@PreMatching
@Priority(100)
public final class RequestLimits implements ContainerRequestFilter {

  /** Default body limit: a run spec is a few hundred bytes; 64 KiB leaves room for overrides. */
  public static final int DEFAULT_MAX_BODY_BYTES = 64 << 10;

  private final int maxBodyBytes;

  public RequestLimits(int maxBodyBytes) {
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  public void filter(ContainerRequestContext request) {
    String length = request.getHeaderString(HttpHeaders.CONTENT_LENGTH);
    if (length != null) {
      long declared;
      try {
        declared = Long.parseLong(length.strip());
      } catch (NumberFormatException e) {
        declared = Long.MAX_VALUE;
      }
      if (declared > maxBodyBytes) {
        request.abortWith(tooLarge(maxBodyBytes));
        return;
      }
    }
    if (request.hasEntity()) {
      request.setEntityStream(new Bounded(request.getEntityStream(), maxBodyBytes));
    }
  }

  static Response tooLarge(int max) {
    return Response.status(413)
        .type(MediaType.APPLICATION_JSON_TYPE)
        .entity(
            ErrorBody.of(
                413,
                "request body is larger than the limit of "
                    + max
                    + " bytes; a run spec needs a few hundred"))
        .build();
  }

  /** Counts bytes read; past the limit the request ends with 413. */
  static final class Bounded extends FilterInputStream {
    private final int max;
    private long read;

    Bounded(InputStream in, int max) {
      super(in);
      this.max = max;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count(1);
      }
      return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      int n = super.read(buf, off, len);
      if (n > 0) {
        count(n);
      }
      return n;
    }

    private void count(int n) {
      read += n;
      if (read > max) {
        throw new WebApplicationException(tooLarge(max));
      }
    }
  }
}
