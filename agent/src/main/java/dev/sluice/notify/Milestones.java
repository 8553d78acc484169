package dev.sluice.notify;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Spots a job's milestones, from two inputs: its figures once a second ({@link #tick}) and its
 * audit events as they appear ({@link #audit}).
 *
 * <ul>
 *   <li>{@code started}: the first tick in a copying state; {@code progress}: each 25% of the rows
 *       copied (25, 50, 75; the highest crossed when several are crossed at once);
 *   <li>{@code paused} / {@code throttled}: held by an operator, or by health, a breaker or the
 *       foreground control, for longer than {@code after} in one spell (once a spell; waiting for a
 *       time window is the plan, not news);
 *   <li>{@code segment_parked}, {@code in_sync}, {@code verified}, {@code completed}, {@code aborted},
 *       {@code rolled_back}: from the audit events of the same name.
 * </ul>
 *
 * Pure; one instance a job; callers synchronise.
 */
public final class Milestones {
  static final Set<String> COPYING = Set.of("copying", "catching_up", "in_sync");

  /** A job as it stands: state, rows, and why it waits ({@code paused, window, breaker, health, foreground}; null: running). */
  public record JobView(String job, String state, long rowsDone, long rowsPlanned, String waitCode, String waitReason) {}

  /** One audit event of the job. */
  public record AuditEvent(long id, String kind, Integer segment, String message, JsonObject details) {}

  private final String job;
  private final Duration after;
  private boolean started;
  private int progress;
  private String waitCode;
  private Instant waitSince;
  private boolean waitTold;

  public Milestones(String job, Duration after) {
    this.job = job;
    this.after = after;
  }

  public List<NotifyEvent> tick(Instant now, JobView v) {
    List<NotifyEvent> out = new ArrayList<>();
    if (!COPYING.contains(v.state())) {
      waitCode = null;
      return out;
    }
    if (!started) {
      started = true;
      out.add(new NotifyEvent(NotifyEvent.STARTED, "started", job, now, "job " + job + " started: " + rows(v.rowsPlanned()) + " rows to copy",
          new JsonObject().put("rowsPlanned", v.rowsPlanned())));
    }
    int pct = v.rowsPlanned() <= 0 ? 0 : (int) Math.min(75, Math.floorDiv(v.rowsDone() * 4, v.rowsPlanned()) * 25);
    if (pct > progress) {
      progress = pct;
      out.add(new NotifyEvent(NotifyEvent.PROGRESS, "progress/" + pct, job, now,
          "job " + job + " is " + pct + "% copied (" + rows(v.rowsDone()) + " of " + rows(v.rowsPlanned()) + " rows)",
          new JsonObject().put("percent", pct).put("rowsDone", v.rowsDone()).put("rowsPlanned", v.rowsPlanned())));
    }
    String code = "window".equals(v.waitCode()) ? null : v.waitCode();
    if (code == null || !code.equals(waitCode)) {
      waitCode = code;
      waitSince = now;
      waitTold = false;
    }
    if (code != null && !waitTold && !now.isBefore(waitSince.plus(after))) {
      waitTold = true;
      boolean paused = code.equals("paused");
      long minutes = Duration.between(waitSince, now).toMinutes();
      out.add(new NotifyEvent(paused ? NotifyEvent.PAUSED : NotifyEvent.THROTTLED, (paused ? "paused/" : "throttled/") + waitSince.toEpochMilli(),
          job, now, "job " + job + (paused ? " paused" : " held") + " for " + minutes + " min: " + v.waitReason(),
          new JsonObject().put("since", waitSince.toString()).put("reason", v.waitReason()).put("code", code)));
    }
    return out;
  }

  /** The milestone an audit event is, or null. */
  public NotifyEvent audit(Instant now, AuditEvent e) {
    JsonObject d = e.details() == null ? new JsonObject() : e.details();
    return switch (e.kind()) {
      case "segment.failed" -> new NotifyEvent(NotifyEvent.SEGMENT_PARKED, "segment_parked/" + e.id(), job, now,
          "job " + job + ": " + e.message() + " (parked; `sluice retry` re-queues it)", new JsonObject().put("segment", e.segment()));
      case "job.in_sync" -> new NotifyEvent(NotifyEvent.IN_SYNC, "in_sync", job, now, e.message(), new JsonObject());
      case "job.verify_report" -> verified(now, e, d);
      case "job.completed" -> new NotifyEvent(NotifyEvent.COMPLETED, "completed", job, now, e.message(), new JsonObject());
      case "job.aborted" -> new NotifyEvent(NotifyEvent.ABORTED, "aborted/" + e.id(), job, now, e.message(), new JsonObject());
      case "job.rolled_back" -> new NotifyEvent(NotifyEvent.ROLLED_BACK, "rolled_back", job, now, e.message(), new JsonObject());
      default -> null;
    };
  }

  private NotifyEvent verified(Instant now, AuditEvent e, JsonObject d) {
    int unrepaired = d.getInteger("unrepaired", 0);
    int checks = d.getInteger("checksFailed", 0);
    boolean ok = unrepaired == 0 && checks == 0;
    String msg = ok
        ? String.format(Locale.ROOT, "job %s verified: %s rows in %d segments match (%d mismatches found and repaired)", job,
            rows(d.getLong("rows", 0L)), d.getInteger("segments", 0), d.getInteger("repaired", 0))
        : String.format(Locale.ROOT, "job %s verification found %d unrepaired differences and %d failed checks", job, unrepaired, checks);
    return new NotifyEvent(NotifyEvent.VERIFIED, "verified/" + e.id(), job, now, msg,
        new JsonObject().put("passed", ok).put("report", d.copy()));
  }

  static String rows(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }
}
