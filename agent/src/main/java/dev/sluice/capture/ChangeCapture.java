package dev.sluice.capture;

import dev.sluice.config.JobConfig;
import dev.sluice.inspect.JobShape;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.List;

/**
 * Installs and removes a job's change capture on the source (see {@link CaptureSql}). Both are
 * idempotent and run in one transaction under an advisory lock, so agents starting together, or a
 * rollback resumed after a crash, converge on the same result.
 */
public final class ChangeCapture {
  private ChangeCapture() {}

  public static Future<Void> install(Pool source, JobShape shape) {
    return install(source, shape, true);
  }

  /**
   * {@code triggers} false (logical capture): only schema {@code sluice} and the changelog, which the
   * WAL reader fills; no trigger function, no triggers.
   */
  public static Future<Void> install(Pool source, JobShape shape, boolean triggers) {
    return install(source, shape, triggers, null);
  }

  /**
   * As above, never making the table's users queue behind the triggers' DDL ({@link DdlLockWait}):
   * each attempt waits deadlock_timeout + 1 s at most for the table's lock, and attempts go on for minutes.
   */
  public static Future<Void> install(Vertx vertx, Pool source, JobShape shape, boolean triggers) {
    String job = shape.job().name();
    return new DdlLockWait(vertx, source).run("job " + job + ": installing change capture", DdlLockWait.table(),
        Tuple.of(shape.job().source().table().sql()), DdlLockWait.Blocks.WRITERS, timeout -> install(source, shape, triggers, timeout));
  }

  private static Future<Void> install(Pool source, JobShape shape, boolean triggers, String lockTimeout) {
    CaptureSql sql = new CaptureSql(shape);
    String job = shape.job().name();
    List<String> objects = triggers ? sql.installObjects() : sql.installObjects().subList(0, 2);
    // Another agent's install of the same job is waited for as long as it takes (the advisory locks); the table's lock is not.
    return source.withTransaction(conn -> lock(conn, job)
        .compose(v -> lockTimeout == null ? Future.<Void>succeededFuture() : run(conn, List.of(lockTimeout)))
        .compose(v -> conn.query("SET LOCAL client_min_messages = warning").execute()) // no "already exists" notices
        .compose(v -> run(conn, objects))
        .compose(v -> conn.query(triggers ? sql.missingTriggers() : "SELECT 1 WHERE false").execute())
        .compose(rows -> {
          List<String> ddl = new java.util.ArrayList<>();
          for (var r : rows) ddl.add(sql.createTrigger(r.getString(0)));
          return run(conn, ddl);
        }));
  }

  /**
   * Drops the replication slot and publication (logical capture), then trigger, function and
   * changelog (and the {@code sluice} schema when it is left empty and the role may create it again: a
   * schema a DBA created for it stays, for the next job); the table's owner is not needed
   * ({@link CaptureSql#remove}). Whatever the mode the job ran
   * in: each step is idempotent, and one that finds nothing does nothing.
   */
  public static Future<Void> remove(Pool source, String job) {
    return remove(source, job, null);
  }

  /** As above, never making the table's users queue behind the triggers' DROP ({@link DdlLockWait}). */
  public static Future<Void> remove(Vertx vertx, Pool source, String job) {
    return new DdlLockWait(vertx, source).run("job " + job + ": removing change capture", DdlLockWait.triggerTables(),
        DdlLockWait.triggerNames(job), DdlLockWait.Blocks.EVERYONE, timeout -> remove(source, job, timeout));
  }

  private static Future<Void> remove(Pool source, String job, String lockTimeout) {
    return LogicalSlot.drop(source, job).compose(x -> source.withTransaction(conn -> lock(conn, job)
            .compose(v -> lockTimeout == null ? Future.<Void>succeededFuture() : run(conn, List.of(lockTimeout)))
            .compose(v -> conn.query("SET LOCAL client_min_messages = warning").execute())
            // The triggers go with their function (the source table may be gone: its triggers went with it).
            .compose(v -> run(conn, CaptureSql.remove(job)))))
        .compose(v -> source.query("DO $$ BEGIN IF to_regnamespace('sluice') IS NOT NULL AND NOT EXISTS "
            + "(SELECT 1 FROM pg_class WHERE relnamespace = 'sluice'::regnamespace) AND NOT EXISTS "
            + "(SELECT 1 FROM pg_proc WHERE pronamespace = 'sluice'::regnamespace) "
            // Only a schema the role could create again: one a DBA made for it (docs/production.md) stays for the next job.
            + "AND has_database_privilege(current_database(), 'CREATE') THEN DROP SCHEMA sluice; END IF; END $$")
            .execute().<Void>mapEmpty().otherwiseEmpty());
  }

  /** True when the job's trigger, changelog, replication slot or publication is still on the source. */
  public static Future<Boolean> present(SqlClient source, String job) {
    return source.preparedQuery("SELECT to_regclass($1) IS NOT NULL OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = $2)")
        .execute(Tuple.of(CaptureSql.changelog(job), CaptureSql.trigger(job) + "_ins"))
        .compose(rows -> rows.iterator().next().getBoolean(0) ? Future.succeededFuture(true) : LogicalSlot.present(source, job));
  }

  /**
   * What the source role lacks to install capture for a job, or null when it has it all: CREATE on
   * the database (or on schema {@code sluice} once it exists) and TRIGGER on the source table.
   */
  public static Future<String> missingPrivileges(SqlClient source, JobConfig job) {
    return missingPrivileges(source, job, true);
  }

  /** {@code trigger} false (logical capture): the changelog only, no TRIGGER needed. */
  public static Future<String> missingPrivileges(SqlClient source, JobConfig job, boolean trigger) {
    return source.preparedQuery("SELECT current_user::text, has_table_privilege($1, 'TRIGGER'), "
            + "CASE WHEN to_regnamespace('sluice') IS NULL THEN has_database_privilege(current_database(), 'CREATE') "
            + "ELSE has_schema_privilege('sluice', 'CREATE') AND has_schema_privilege('sluice', 'USAGE') END, "
            + "to_regnamespace('sluice') IS NULL")
        .execute(Tuple.of(job.source().table().sql()))
        .map(rows -> {
          var r = rows.iterator().next();
          StringBuilder sb = new StringBuilder();
          if (trigger && !r.getBoolean(1)) sb.append("TRIGGER on ").append(job.source().table());
          if (!r.getBoolean(2)) {
            if (sb.length() > 0) sb.append(" and ");
            sb.append(r.getBoolean(3) ? "CREATE on the source database (to create schema sluice)" : "CREATE and USAGE on schema sluice");
          }
          if (sb.length() == 0) return null;
          return "change capture needs " + sb + ", which role " + r.getString(0) + " lacks; grant it, or set capture.enabled "
              + "to false (writes made during the copy are then not carried over)";
        });
  }

  /**
   * The job's lock, after one shared by every job: jobs installing at once (one agent starting several)
   * would otherwise race on {@code CREATE SCHEMA IF NOT EXISTS sluice}, which is not safe concurrently.
   */
  private static Future<Void> lock(SqlConnection conn, String job) {
    return conn.query("SELECT pg_advisory_xact_lock(hashtext('sluice.capture'))").execute()
        .compose(v -> conn.preparedQuery("SELECT pg_advisory_xact_lock(hashtext('sluice.capture.' || $1))").execute(Tuple.of(job)))
        .mapEmpty();
  }

  private static Future<Void> run(SqlConnection conn, List<String> stmts) {
    Future<Void> chain = Future.succeededFuture();
    for (String s : stmts) chain = chain.compose(v -> conn.query(s).execute().mapEmpty());
    return chain;
  }
}
