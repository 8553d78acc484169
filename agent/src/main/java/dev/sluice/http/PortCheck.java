package dev.sluice.http;

import dev.sluice.config.HttpConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Whether the agent's HTTP port is free, asked before the agent does anything: the server itself starts
 * last (its views need the jobs running), so a port held by another agent on the host (two agents with
 * one config) used to fail the start only after the jobs were planned, their capture installed and
 * copying begun, with {@code RuntimeException: java.net.BindException: Address already in use}.
 * Blocking.
 */
public final class PortCheck {
  private PortCheck() {}

  /** Throws, saying what to do, when {@code http.host:http.port} cannot be bound now. */
  public static void free(HttpConfig http) {
    if (!http.enabled() || http.port() == 0) return;
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true); // as the server binds: a port a stopped agent left in TIME_WAIT is free
      s.bind(new InetSocketAddress(http.host(), http.port()));
    } catch (IOException e) {
      throw new IllegalStateException("cannot serve HTTP on " + http.host() + ":" + http.port() + " (" + e.getMessage()
          + "): another agent or program on this host listens there; stop it, or set http.port to a free port (0 picks one, "
          + "logged at start). Nothing was started", e);
    }
  }
}
