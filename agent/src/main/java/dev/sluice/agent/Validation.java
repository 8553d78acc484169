package dev.sluice.agent;

import dev.sluice.capture.CaptureChoice;
import dev.sluice.capture.CaptureSql;
import dev.sluice.capture.ChangeCapture;
import dev.sluice.capture.LogicalCapability;
import dev.sluice.config.JobConfig;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigProblem;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobInspector;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a config against the real databases over read-only sessions (nothing is written anywhere)
 * and resolves each job's shape. Used by {@code validate} and before {@code run} starts anything.
 * Must run on a thread that may block.
 */
public final class Validation {
  private Validation() {}

  public static List<JobShape> check(Vertx vertx, SluiceConfig config) {
    return check(vertx, config, new HashMap<>());
  }

  /**
   * As {@link #check(Vertx, SluiceConfig)}, and puts into {@code captures} the capture each job with
   * capture on gets (by job name), with why: {@code capture.mode} as configured, or {@code auto}
   * decided by what the source allows. A job that asks for logical capture the source cannot give is
   * a problem naming what to change.
   */
  public static List<JobShape> check(Vertx vertx, SluiceConfig config, Map<String, CaptureChoice> captures) {
    return check(vertx, config, captures, new HashMap<>());
  }

  /** As above, and puts into {@code transports} how each side's session travels ("source", "target": {@link Transport}). */
  public static List<JobShape> check(Vertx vertx, SluiceConfig config, Map<String, CaptureChoice> captures,
      Map<String, String> transports) {
    List<ConfigProblem> problems = new ArrayList<>();
    // Both at once: each waits for its server's authentication (and TLS) round trips.
    Future<PgConnection> opening = connect(vertx, config.source());
    Future<PgConnection> openingTarget = connect(vertx, config.target());
    PgConnection src = opened(opening, config.source(), "source", problems);
    PgConnection tgt = opened(openingTarget, config.target(), "target", problems);
    try {
      if (!problems.isEmpty()) throw new ConfigException(problems);
      transports.put("source", Await.result(Transport.describe(src, config.source())));
      transports.put("target", Await.result(Transport.describe(tgt, config.target())));
      boolean sourceStandby = inRecovery(src);
      if (inRecovery(tgt)) {
        problems.add(new ConfigProblem("target", "the target is a standby (in recovery, read-only): Sluice writes the rows and its "
            + "ledger there; point target at the primary"));
        throw new ConfigException(problems);
      }
      JobInspector inspector = new JobInspector(src, tgt);
      List<JobShape> shapes = new ArrayList<>();
      // The jobs before this one that will create a replication slot, and whose readers will hold a WAL sender.
      List<String> newSlots = new ArrayList<>();
      List<String> readers = new ArrayList<>();
      for (int i = 0; i < config.jobs().size(); i++) {
        JobShape s = inspector.inspect(config.jobs().get(i), "jobs[" + i + "]", problems);
        shapes.add(s);
        if (s != null && s.job().capture().enabled() && sourceStandby) {
          problems.add(new ConfigProblem("jobs[" + i + "].capture", "the source is a standby (in recovery, read-only): change capture "
              + "needs the primary (its triggers and changelog, or its publication, are created there); point source at the primary, "
              + "or set capture.enabled to false for a plain copy from the standby (writes made during the copy are then not carried over)"));
        } else if (s != null && s.job().capture().enabled()) {
          CaptureChoice choice = capture(vertx, src, config, s, newSlots, readers);
          captures.put(s.job().name(), choice);
          if (choice.refused()) problems.add(new ConfigProblem("jobs[" + i + "].capture.mode", choice.refusal()));
          boolean trigger = choice.mode() == CaptureChoice.Mode.TRIGGER;
          String missing = Await.result(ChangeCapture.missingPrivileges(src, s.job(), trigger));
          // auto fell back to the trigger, which the role may not have either: say why logical was ruled out too.
          if (missing != null && trigger && s.job().capture().mode() == JobConfig.CaptureMode.AUTO) missing += "; and " + choice.reason();
          if (missing != null) problems.add(new ConfigProblem("jobs[" + i + "].capture", missing));
          if (trigger && missing == null && Await.result(src.preparedQuery(CaptureSql.replicaBlind())
              .execute(Tuple.of(s.job().source().table().sql())).map(r -> r.iterator().next().getBoolean(0)))) {
            captures.put(s.job().name(), choice.noting(REPLICA_BLIND));
          }
        }
      }
      String ledger = Await.result(LedgerSchema.missingPrivileges(tgt));
      if (ledger != null) problems.add(new ConfigProblem("target", ledger));
      if (!problems.isEmpty()) throw new ConfigException(problems);
      return shapes;
    } finally {
      if (src != null) Await.result(src.close().otherwiseEmpty());
      if (tgt != null) Await.result(tgt.close().otherwiseEmpty());
    }
  }

  private static boolean inRecovery(PgConnection db) {
    return Await.result(db.query("SELECT pg_is_in_recovery()").execute().map(r -> r.iterator().next().getBoolean(0)));
  }

  static final String REPLICA_BLIND = "the role does not own the source table, so its capture triggers cannot be made ENABLE ALWAYS: "
      + "writes made with session_replication_role = replica (a logical replication subscription into this table, "
      + "replication tools and loaders that skip triggers so) are not captured, and only the final pass repairs them (docs/consistency.md)";

  /**
   * What the source allows the job (asked only when the config does not say trigger), counting the
   * slots and WAL senders the config's earlier jobs take, and the choice; a job that gets logical
   * capture is added to {@code newSlots} (unless its slot exists) and {@code readers}.
   */
  private static CaptureChoice capture(Vertx vertx, PgConnection src, SluiceConfig config, JobShape s, List<String> newSlots,
      List<String> readers) {
    JobConfig.CaptureMode asked = s.job().capture().mode();
    if (asked == JobConfig.CaptureMode.TRIGGER) return CaptureChoice.resolve(asked, null, null);
    String job = s.job().name();
    String table = s.job().source().table().sql();
    LogicalCapability.Verdict v = Await.result(LogicalCapability.check(src, job, table, s.sourceKey(), List.copyOf(newSlots),
        List.copyOf(readers)));
    if (v.possible()) {
      dev.sluice.db.ConnectionSettings cs = Databases.settings(config.source(), "sluice-validate");
      String refusal = LogicalCapability.replicationRefusal(cs);
      if (refusal != null) v = new LogicalCapability.Verdict(List.of(new LogicalCapability.Problem("replication connection refused",
          refusal)), v.slotExists());
    }
    CaptureChoice choice = CaptureChoice.resolve(asked, null, v);
    if (choice.mode() == CaptureChoice.Mode.LOGICAL && !choice.refused()) {
      if (!v.slotExists()) newSlots.add(job);
      readers.add(job);
    }
    return choice;
  }

  private static Future<PgConnection> connect(Vertx vertx, DatabaseConfig db) {
    return Databases.connect(vertx, Databases.settings(db, "sluice-validate").with("default_transaction_read_only", "on"));
  }

  private static PgConnection opened(Future<PgConnection> opening, DatabaseConfig db, String side, List<ConfigProblem> problems) {
    try {
      return Await.result(opening);
    } catch (RuntimeException e) {
      // Await wraps a checked failure (a refused TLS handshake) in a bare RuntimeException: say the failure itself.
      Throwable c = e.getClass() == RuntimeException.class && e.getCause() != null ? e.getCause() : e;
      String why = c instanceof PgException pg ? pg.getErrorMessage()
          : c instanceof javax.net.ssl.SSLHandshakeException || c instanceof IllegalStateException ? c.getMessage() : ErrorClassifier.describe(c);
      problems.add(new ConfigProblem(side + ".url", "cannot connect to " + db.redacted() + ": " + why));
      return null;
    }
  }
}
