package dev.sluice.traffic;

import java.time.Instant;

/**
 * What one agent saw of the source's own users during (part of) one UTC hour, as sums, so that
 * contributions add up: successive flushes of the same hour, and several agents sampling one source,
 * merge with {@link #plus} (the ledger's upsert does the same addition).
 *
 * @param source the database, as {@code host:port/db} (never with credentials)
 * @param seconds wall time the samples cover
 * @param xacts transactions committed and rolled back ({@code pg_stat_database} deltas) over
 *     {@code xactSeconds} seconds
 * @param busySum sum of the foreground samples (other sessions inside a transaction), {@code busyN} of them
 * @param probeSum sum of the foreground probe's latencies in ms, {@code probeN} of them
 */
public record TrafficHour(String source, Instant hour, double seconds, double xacts, double xactSeconds, double busySum, long busyN,
    double busyMax, double probeSum, long probeN, double probeMax) {

  public static TrafficHour empty(String source, Instant hour) {
    return new TrafficHour(source, hour, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  }

  public TrafficHour plus(TrafficHour o) {
    return new TrafficHour(source, hour, seconds + o.seconds, xacts + o.xacts, xactSeconds + o.xactSeconds, busySum + o.busySum,
        busyN + o.busyN, Math.max(busyMax, o.busyMax), probeSum + o.probeSum, probeN + o.probeN, Math.max(probeMax, o.probeMax));
  }

  public double xactsPerSecond() {
    return xactSeconds <= 0 ? Double.NaN : xacts / xactSeconds;
  }

  public double busyAverage() {
    return busyN == 0 ? Double.NaN : busySum / busyN;
  }

  public double probeMs() {
    return probeN == 0 ? Double.NaN : probeSum / probeN;
  }

  public boolean isEmpty() {
    return seconds <= 0 && busyN == 0 && probeN == 0 && xactSeconds <= 0;
  }
}
