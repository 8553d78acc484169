package dev.sluice.config;

import java.time.Duration;

/**
 * This agent's identity and its segment leases. A lease not renewed within {@code lease} may be
 * taken over by another agent (or by this agent after a restart).
 */
public record AgentConfig(String id, Duration lease, Duration heartbeat) {
  public static final long DEFAULT_LEASE_SECONDS = 30;
  public static final long DEFAULT_HEARTBEAT_SECONDS = 5;
}
