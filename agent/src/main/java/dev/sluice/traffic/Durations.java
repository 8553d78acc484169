package dev.sluice.traffic;

/** Durations in words an operator reads at a glance: {@code 45 s}, {@code 12 min}, {@code 2 h 5 min}, {@code 3 d 4 h}. */
public final class Durations {
  private Durations() {}

  public static String words(double seconds) {
    long s = Math.round(Math.abs(seconds));
    if (s < 60) return s + " s";
    long m = Math.round(s / 60.0);
    if (m < 60) return m + " min";
    long h = s / 3600;
    long rm = Math.round((s - h * 3600) / 60.0);
    if (rm == 60) {
      h++;
      rm = 0;
    }
    if (h < 24) return h + " h" + (rm == 0 ? "" : " " + rm + " min");
    long d = h / 24;
    long rh = h % 24;
    return d + " d" + (rh == 0 ? "" : " " + rh + " h");
  }
}
