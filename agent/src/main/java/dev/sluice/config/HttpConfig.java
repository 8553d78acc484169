package dev.sluice.config;

import java.util.List;

/**
 * The agent's HTTP server: health, API, metrics, WebSocket and dashboard. Control needs
 * {@code token}; the read API ({@code /api/jobs/{job}/rows}) needs {@code readToken} when one is
 * set, and is open otherwise. {@code maxBodyBytes} caps request bodies (413 above it);
 * {@code corsOrigins} lists the other sites allowed to call the API from a browser and to open the
 * WebSocket (none by default). {@code readTimeoutMs}: how long a read API call waits for its
 * database before it answers 503 (the read sessions' {@code statement_timeout}, and the read pools'
 * stall timeout one second later).
 */
public record HttpConfig(boolean enabled, String host, int port, String token, String readToken, int maxBodyBytes,
    List<String> corsOrigins, int readTimeoutMs) {
  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 8080;
  public static final int DEFAULT_MAX_BODY_BYTES = 65_536;
  public static final int DEFAULT_READ_TIMEOUT_MS = 5_000;

  public HttpConfig(boolean enabled, String host, int port, String token, String readToken, int maxBodyBytes, List<String> corsOrigins) {
    this(enabled, host, port, token, readToken, maxBodyBytes, corsOrigins, DEFAULT_READ_TIMEOUT_MS);
  }

  @Override
  public String toString() {
    return "HttpConfig[enabled=" + enabled + ", host=" + host + ", port=" + port + ", token=" + (token == null ? "none" : "***")
        + ", readToken=" + (readToken == null ? "none" : "***") + ", maxBodyBytes=" + maxBodyBytes + ", corsOrigins=" + corsOrigins + ", readTimeoutMs=" + readTimeoutMs + "]";
  }
}
