package dev.sluice.capture;

import java.io.IOException;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Records keys read from the write-ahead log in the job's changelog on the source, where the applier
 * takes them from exactly as it takes the trigger's: one COPY of the batch and one NOTIFY, committed
 * together. A key's time is its transaction's commit time, so the backlog's age is the age of the
 * change itself. Runs on the capture's worker thread over its own JDBC session (blocking).
 */
public final class ChangelogWriter implements AutoCloseable {
  private final Connection conn;
  private final CopyManager copy;
  private final String copySql;
  private final String channel;
  private final String heartbeatPrefix;
  private final String job;

  public ChangelogWriter(Connection conn, String job) throws SQLException {
    this.conn = conn;
    this.copy = conn.unwrap(PGConnection.class).getCopyAPI();
    this.copySql = "COPY " + CaptureSql.changelog(job) + " (key, at) FROM STDIN";
    this.channel = CaptureSql.channel(job);
    this.heartbeatPrefix = LogicalSlot.HEARTBEAT_PREFIX;
    this.job = job;
  }

  /** Records keys (each with its commit time, PostgreSQL microseconds) durably; returns when committed. */
  public void record(Map<List<String>, Long> keys) throws SQLException {
    if (keys.isEmpty()) return;
    StringBuilder sb = new StringBuilder(keys.size() * 40);
    for (Map.Entry<List<String>, Long> e : keys.entrySet()) {
      copyText(sb, arrayLiteral(e.getKey()));
      sb.append('\t').append(PgOutput.instant(e.getValue())).append('\n');
    }
    try {
      copy.copyIn(copySql, new StringReader(sb.toString()));
      try (PreparedStatement n = conn.prepareStatement("SELECT pg_notify(?, '')")) {
        n.setString(1, channel);
        n.execute();
      }
      conn.commit();
    } catch (IOException e) {
      rollbackQuietly();
      throw new SQLException("cannot send keys to the changelog: " + e.getMessage(), e);
    } catch (SQLException e) {
      rollbackQuietly();
      throw e;
    }
  }

  /**
   * Which of {@code $1} (32-bit transaction ids) a snapshot taken now does not see yet: still in its
   * running list, or not before its xmax (the ids compared modulo 2^32, as PostgreSQL does).
   */
  static final String INVISIBLE = "WITH s AS (SELECT pg_current_snapshot() AS snap), "
      + "r AS (SELECT (x::text::bigint % 4294967296) AS x FROM s, pg_snapshot_xip(s.snap) x), "
      + "m AS (SELECT pg_snapshot_xmax(snap)::text::bigint % 4294967296 AS xmax FROM s) "
      + "SELECT count(*) FROM unnest(?::bigint[]) t(x), m "
      + "WHERE t.x IN (SELECT x FROM r) OR (m.xmax - t.x + 4294967296) % 4294967296 NOT BETWEEN 1 AND 2147483647";

  /**
   * Returns once the transactions {@code xids} (read from the stream, hence committed) are visible to
   * new snapshots on the source. A commit is in the WAL, and decoded, before its backend makes it
   * visible: right after the WAL flush, and with synchronous replication only once a standby confirmed
   * it. A key handed over or recorded before then could be re-read as the row before the change (or
   * dropped for a pending segment whose snapshot then misses the change): docs/consistency.md, the
   * ordering argument's step 2, needs the change visible first. Runs {@code alive} about once a second
   * while it waits.
   */
  public void awaitVisible(int[] xids, Runnable alive) throws SQLException, InterruptedException {
    if (xids.length == 0) return;
    Long[] ids = new Long[xids.length];
    for (int i = 0; i < xids.length; i++) ids[i] = Integer.toUnsignedLong(xids[i]);
    long sleepMs = 1;
    long lastAlive = System.nanoTime();
    while (true) {
      long invisible;
      try (PreparedStatement q = conn.prepareStatement(INVISIBLE)) {
        q.setArray(1, conn.createArrayOf("bigint", ids));
        try (var rs = q.executeQuery()) {
          rs.next();
          invisible = rs.getLong(1);
        }
      } finally {
        rollbackQuietly();
      }
      if (invisible == 0) return;
      if (System.nanoTime() - lastAlive >= 1_000_000_000L) {
        alive.run();
        lastAlive = System.nanoTime();
      }
      Thread.sleep(sleepMs);
      sleepMs = Math.min(50, sleepMs * 2);
    }
  }

  /**
   * Writes a small non-transactional message into the source's WAL: the stream then carries a
   * position to confirm even when the job's table is idle, so the slot keeps moving while other
   * tables (or databases) write; its echo also shows the stream alive ({@link StreamWatch}). Returns
   * the message's position in the WAL (its record's end). A non-transactional message alone is not
   * flushed, and the server's sender reads only flushed WAL: on an idle server its echo could wait
   * seconds for the WAL writer. So the statement also takes a transaction id, whose commit flushes the
   * WAL up to it (or wakes the WAL writer at once where {@code synchronous_commit} is off).
   */
  public long heartbeat() throws SQLException {
    try (PreparedStatement s = conn.prepareStatement("SELECT (pg_logical_emit_message(false, ?, ?) - '0/0'::pg_lsn)::bigint, txid_current()")) {
      s.setString(1, heartbeatPrefix);
      s.setString(2, job);
      long lsn;
      try (ResultSet r = s.executeQuery()) {
        r.next();
        lsn = r.getLong(1);
      }
      conn.commit();
      return lsn;
    }
  }

  /**
   * The server's sender on a slot: how far it read the WAL ({@code pg_stat_replication.sent_lsn}; a
   * logical sender moves it after each record it decodes, whether or not it sends anything; null
   * when the role may not see it: only superusers and members of {@code pg_read_all_stats} do), and
   * whether it is working (its process waits on nothing, or on I/O or a lock: not on the client, nor
   * idle; unknown counts as working).
   */
  public record Sender(Long sentLsn, boolean working) {}

  /** The sender on {@code slot}, or null when none holds it. */
  public Sender sender(String slot) throws SQLException {
    try (PreparedStatement s = conn.prepareStatement("SELECT (r.sent_lsn - '0/0'::pg_lsn)::bigint,"
        + " a.wait_event_type IS NULL OR a.wait_event_type NOT IN ('Client', 'Activity') FROM pg_replication_slots l"
        + " LEFT JOIN pg_stat_replication r ON r.pid = l.active_pid LEFT JOIN pg_stat_activity a ON a.pid = l.active_pid"
        + " WHERE l.slot_name = ? AND l.active_pid IS NOT NULL")) {
      s.setString(1, slot);
      Sender sender = null;
      try (ResultSet r = s.executeQuery()) {
        if (r.next()) {
          long v = r.getLong(1);
          sender = new Sender(r.wasNull() ? null : v, r.getBoolean(2));
        }
      }
      conn.commit();
      return sender;
    }
  }

  private void rollbackQuietly() {
    try {
      conn.rollback();
    } catch (SQLException ignored) {
      // the connection is broken; the caller reconnects
    }
  }

  /** A text[] literal: every element quoted, so any text (commas, braces, quotes, NULL spelled out) survives. */
  static String arrayLiteral(List<String> values) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) sb.append(',');
      String v = values.get(i);
      if (v == null) {
        sb.append("NULL");
        continue;
      }
      sb.append('"');
      for (int j = 0; j < v.length(); j++) {
        char c = v.charAt(j);
        if (c == '"' || c == '\\') sb.append('\\');
        sb.append(c);
      }
      sb.append('"');
    }
    return sb.append('}').toString();
  }

  /** Appends a value in COPY's text format (backslash, tab, newline and carriage return escaped). */
  static void copyText(StringBuilder sb, String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '\t' -> sb.append("\\t");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        default -> sb.append(c);
      }
    }
  }

  @Override
  public void close() {
    try {
      conn.close();
    } catch (SQLException ignored) {
      // closing anyway
    }
  }
}
