package dev.sluice.config;

/**
 * The agent's HTTP server: health, API, metrics and dashboard. Control needs {@code token}; the read
 * API ({@code /api/jobs/{job}/rows}) needs {@code readToken} when one is set, and is open otherwise.
 */
public record HttpConfig(boolean enabled, String host, int port, String token, String readToken) {
  @Override
  public String toString() {
    return "HttpConfig[enabled=" + enabled + ", host=" + host + ", port=" + port + ", token=" + (token == null ? "none" : "***")
        + ", readToken=" + (readToken == null ? "none" : "***") + "]";
  }
}
