package dev.sluice.health;

/**
 * One sensor reading: a value, or the error that stopped the sensor from taking one, and when it was
 * taken (nano clock). The decision judges a reading's age itself, so a sensor that stops answering
 * goes stale and fails closed.
 */
public record Reading(double value, String error, long atNanos) {
  public static Reading of(double value, long atNanos) {
    return new Reading(value, null, atNanos);
  }

  public static Reading failed(String error, long atNanos) {
    return new Reading(Double.NaN, error, atNanos);
  }

  public boolean ok() {
    return error == null;
  }
}
