package dev.sluice.config;

import java.time.Duration;

/**
 * This agent's identity and its segment leases. A lease not renewed within {@code lease} may be
 * taken over by another agent (or by this agent after a restart).
 */
public record AgentConfig(String id, Duration lease, Duration heartbeat) {}
