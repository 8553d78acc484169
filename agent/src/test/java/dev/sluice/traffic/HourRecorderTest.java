package dev.sluice.traffic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HourRecorderTest {
  private static final Instant T0 = Instant.parse("2024-01-01T10:59:50Z");

  @Test
  void transactionsPerSecondFromCounterDeltasChargedToTheHourTheIntervalEnds() {
    HourRecorder r = new HourRecorder("db:5432/app");
    r.xacts(T0, 1000);
    r.xacts(T0.plusSeconds(5), 1500);   // 10:59:55, 100/s
    r.xacts(T0.plusSeconds(15), 3500);  // 11:00:05, 200/s
    HourRecorder.Drained d = r.drain();
    assertEquals(2, d.traffic().size());
    TrafficHour ten = d.traffic().get(0);
    TrafficHour eleven = d.traffic().get(1);
    assertEquals(Instant.parse("2024-01-01T10:00:00Z"), ten.hour());
    assertEquals(100.0, ten.xactsPerSecond(), 1e-9);
    assertEquals(200.0, eleven.xactsPerSecond(), 1e-9);
    assertEquals(10.0, eleven.seconds(), 1e-9);
    assertTrue(r.drain().isEmpty(), "a drain hands over and forgets");
  }

  @Test
  void aResetCounterOrAGapChargesNoTransactions() {
    HourRecorder r = new HourRecorder("s");
    r.xacts(T0, 5000);
    r.xacts(T0.plusSeconds(5), 10);                 // stats reset: time seen, no rate
    r.xacts(T0.plusSeconds(5 + 120), 1_000_000);    // two minutes without a sample: a gap
    r.xacts(T0.plusSeconds(5 + 125), 1_000_500);
    HourRecorder.Drained d = r.drain();
    double xacts = d.traffic().stream().mapToDouble(TrafficHour::xacts).sum();
    double covered = d.traffic().stream().mapToDouble(TrafficHour::xactSeconds).sum();
    assertEquals(500, xacts, 1e-9);
    assertEquals(5, covered, 1e-9);
  }

  @Test
  void foregroundAndProbeAverageAndPeak() {
    HourRecorder r = new HourRecorder("s");
    r.foreground(T0, 2);
    r.foreground(T0.plusMillis(100), 6);
    r.probe(T0, 1.0);
    r.probe(T0.plusMillis(100), 3.0);
    TrafficHour h = r.drain().traffic().get(0);
    assertEquals(4.0, h.busyAverage(), 1e-9);
    assertEquals(6.0, h.busyMax(), 1e-9);
    assertEquals(2.0, h.probeMs(), 1e-9);
    assertEquals(3.0, h.probeMax(), 1e-9);
  }

  @Test
  void aJobsTimeIsRunSlowedOrWaitingByReason() {
    HourRecorder r = new HourRecorder("s");
    Instant t = Instant.parse("2024-01-01T10:00:00Z");
    r.job("orders", t, new HourRecorder.JobTick(0, 0, true, null, 1, 1000, Double.NaN));
    r.job("orders", t.plusSeconds(1), new HourRecorder.JobTick(1000, 0.2, true, null, 1, 1000, 3));
    r.job("orders", t.plusSeconds(2), new HourRecorder.JobTick(1500, 0.3, true, null, 0.5, 500, 7));
    r.job("orders", t.plusSeconds(4), new HourRecorder.JobTick(1500, 0.3, true, "window", 1, Double.NaN, 2));
    r.job("orders", t.plusSeconds(5), new HourRecorder.JobTick(1500, 0.3, true, "paused", 1, Double.NaN, Double.NaN));
    JobHour h = r.drain().jobs().get(0);
    assertEquals(1500, h.rows());
    assertEquals(2.0, h.runSeconds(), 1e-9);
    assertEquals(1.0, h.slowedSeconds(), 1e-9);
    assertEquals(Map.of("window", 2.0, "paused", 1.0), h.waitSeconds());
    assertEquals(750.0, h.allowedRate(), 1e-9);
    assertEquals(750.0, h.achievedRate(), 1e-9);
    assertEquals(0.3, h.writeSeconds(), 1e-9);
    assertEquals(7.0, h.lagMaxSeconds(), 1e-9);
  }

  @Test
  void sumsAddUpAcrossFlushes() {
    TrafficHour a = new TrafficHour("s", T0, 10, 100, 10, 4, 2, 3, 2, 2, 1.5);
    TrafficHour b = new TrafficHour("s", T0, 10, 300, 10, 8, 2, 5, 4, 2, 2.5);
    TrafficHour c = a.plus(b);
    assertEquals(20.0, c.xactsPerSecond(), 1e-9);
    assertEquals(3.0, c.busyAverage(), 1e-9);
    assertEquals(5.0, c.busyMax(), 1e-9);
    assertEquals(1.5, c.probeMs(), 1e-9);
  }
}
