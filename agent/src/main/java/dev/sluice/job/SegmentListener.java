package dev.sluice.job;

import dev.sluice.ledger.Segment;

/** Told when this agent has verified a segment (after the ledger recorded it). Must not block. */
@FunctionalInterface
public interface SegmentListener {
  void verified(Segment segment);
}
