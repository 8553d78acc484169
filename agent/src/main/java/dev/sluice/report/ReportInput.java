package dev.sluice.report;

import dev.sluice.traffic.JobHour;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Everything a job's final report is made of, as read from the ledger: the job row, its hourly
 * record ({@code sluice.job_hours}), its audit trail, its verification report and the config
 * versions applied while it ran.
 */
public record ReportInput(String job, String outcome, String reason, Instant startedAt, Instant finishedAt, long rowsPlanned,
    long rowsCopied, long changesApplied, Map<String, Integer> segments, List<JobHour> hours, List<Event> events,
    JsonObject verifyReport, List<ConfigVersion> configs, String schedule) {

  /** One audit event. */
  public record Event(long id, Instant at, String kind, Integer segment, String message, JsonObject details) {}

  /** One applied config version (secrets were removed before it was stored). */
  public record ConfigVersion(long id, String hash, Instant appliedAt, String cause) {}
}
