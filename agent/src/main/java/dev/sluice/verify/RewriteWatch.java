package dev.sluice.verify;

import dev.sluice.config.TableName;
import dev.sluice.inspect.JobShape;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/**
 * Notices that a table of the job was rewritten: {@code ALTER TABLE .. TYPE} (with or without
 * {@code USING}), {@code VACUUM FULL}, {@code CLUSTER} and {@code TRUNCATE} each give the table new
 * files, so its {@code relfilenode} changes (of each partition or inheritance child too, which the
 * copy reads as well). A rewrite is not MVCC-safe and fires no row trigger: it is a change capture
 * cannot see, and the reason segments verified before it must be verified again.
 */
public final class RewriteWatch {
  private static final String FILES = "WITH RECURSIVE t(oid) AS (SELECT to_regclass($1)::oid UNION ALL "
      + "SELECT i.inhrelid FROM pg_inherits i JOIN t ON i.inhparent = t.oid) "
      + "SELECT coalesce(string_agg(pg_relation_filenode(t.oid)::text, ',' ORDER BY t.oid), '') FROM t";

  private final SqlClient source;
  private final SqlClient target;
  private final TableName sourceTable;
  private final TableName targetTable;

  public RewriteWatch(JobShape shape, SqlClient source, SqlClient target) {
    this.source = source;
    this.target = target;
    this.sourceTable = shape.job().source().table();
    this.targetTable = shape.job().target().table();
  }

  /** The files (relfilenodes, comma-separated; empty when the table is gone) of both tables at one moment. */
  public record Files(String source, String target) {}

  public Future<Files> now() {
    return files(source, sourceTable).compose(s -> files(target, targetTable).map(t -> new Files(s, t)));
  }

  private static Future<String> files(SqlClient db, TableName t) {
    return db.preparedQuery(FILES).execute(Tuple.of(t.sql())).map(rows -> rows.iterator().next().getString(0));
  }

  /** Each table rewritten between {@code before} and {@code now}, as a sentence naming it and its files; empty when none. */
  public List<String> changes(Files before, Files now) {
    List<String> out = new ArrayList<>();
    if (!before.source().equals(now.source())) out.add(sentence("source", sourceTable, before.source(), now.source()));
    if (!before.target().equals(now.target())) out.add(sentence("target", targetTable, before.target(), now.target()));
    return out;
  }

  static String sentence(String side, TableName table, String before, String now) {
    return side + " table " + table + " was rewritten or truncated (relfilenode " + (before.isEmpty() ? "none" : before) + " -> "
        + (now.isEmpty() ? "none" : now) + ")";
  }
}
