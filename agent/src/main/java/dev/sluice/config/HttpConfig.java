package dev.sluice.config;

/** The agent's HTTP server: health, API, metrics and dashboard. Control needs {@code token}. */
public record HttpConfig(boolean enabled, String host, int port, String token) {
  @Override
  public String toString() {
    return "HttpConfig[enabled=" + enabled + ", host=" + host + ", port=" + port + ", token=" + (token == null ? "none" : "***") + "]";
  }
}
