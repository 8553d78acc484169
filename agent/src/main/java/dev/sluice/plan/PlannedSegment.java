package dev.sluice.plan;

/** One segment of a fresh plan: its position, key range and the rows it held when planned. */
public record PlannedSegment(int seq, KeyRange range, long rows) {}
