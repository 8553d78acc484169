package dev.sluice.ledger;

import dev.sluice.plan.KeyRange;

/** A segment as the ledger holds it. {@code epoch} fences writes: only the current lease holder's count. */
public record Segment(
    String job,
    int seq,
    KeyRange range,
    SegmentState state,
    long rowsPlanned,
    long rowsCopied,
    int attempts,
    String lastError,
    String owner,
    long epoch) {}
