package dev.sluice.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/** The system clock plus an offset a test moves forward (shared by its {@link #withZone} copies), so minutes pass for the code that reads it. */
public final class MovableClock extends Clock {
  private final AtomicReference<Duration> offset;
  private final ZoneId zone;

  public MovableClock() {
    this(new AtomicReference<>(Duration.ZERO), ZoneOffset.UTC);
  }

  private MovableClock(AtomicReference<Duration> offset, ZoneId zone) {
    this.offset = offset;
    this.zone = zone;
  }

  public void advance(Duration d) {
    offset.updateAndGet(o -> o.plus(d));
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return new MovableClock(offset, zone);
  }

  @Override
  public Instant instant() {
    return Instant.now().plus(offset.get());
  }
}
