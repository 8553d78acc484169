package dev.sluice.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.LiveReads;
import dev.sluice.ledger.Segment;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The cold-first order against a real PostgreSQL: a job with change capture (so cold-first by
 * default) is planned but held by a closed window; the captured changes the ledger holds for its
 * segments (one very hot, one hot, the rest cold) make its agent's ranking store their heat, mark
 * the hot ones (the heatmap's hot list), and split the very hot pending segment into parts that
 * inherit its heat and a share of its changes. Claims then take every cold segment before any hot
 * one; with the cold-first flag off they take key order.
 */
class ColdFirstOrderTest {
  private final TestPg pg = TestPg.get();

  private String segments(String db) throws Exception {
    StringBuilder sb = new StringBuilder();
    try (var c = pg.connect(db); var st = c.createStatement(); var rs = st.executeQuery(
        "SELECT seq, lower_bound::text, rows_planned, changes_seen, heat, state FROM sluice.segments WHERE job = 'items' ORDER BY seq")) {
      while (rs.next()) sb.append(String.format("%n  %s %s rows %s changes %s heat %s %s", rs.getInt(1), rs.getString(2), rs.getLong(3), rs.getLong(4),
          rs.getString(5), rs.getString(6)));
    }
    return sb.toString();
  }

  @Test
  void hotSegmentsAreMarkedSplitAndClaimedLast() throws Exception {
    String src = pg.createDatabase("cfsrc");
    String tgt = pg.createDatabase("cftgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, qty int)", "INSERT INTO items SELECT g, 0 FROM generate_series(1, 40000) g",
        "ANALYZE items");
    DayOfWeek day = Instant.now().atZone(ZoneOffset.UTC).getDayOfWeek().plus(2);
    Agent agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 4000},
                   "schedule": {"timeZone": "UTC", "windows": [{"days": ["%s"], "start": "01:00", "end": "02:00"}]}}]}
        """.formatted(pg.url(src), pg.url(tgt), day.name().substring(0, 3).toLowerCase()));
    Vertx vertx = Vertx.vertx();
    Pool db = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(new PgConnectOptions()
        .setHost(pg.host()).setPort(pg.port()).setDatabase(tgt).setUser("postgres")).using(vertx).build();
    try {
      Eventually.until(Duration.ofSeconds(30), "10 segments planned",
          () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'pending'") == 10);
      long last = pg.scalar(tgt, "SELECT max(seq) FROM sluice.segments WHERE job = 'items'");
      long veryHot = pg.scalar(tgt, "SELECT seq FROM sluice.segments WHERE job = 'items' ORDER BY lower_bound[1]::bigint NULLS FIRST OFFSET 2 LIMIT 1");
      long hot = pg.scalar(tgt, "SELECT seq FROM sluice.segments WHERE job = 'items' ORDER BY lower_bound[1]::bigint NULLS FIRST OFFSET 6 LIMIT 1");
      // What the change applier would have counted: 2,000 changes in one range, 40 in another, one in each of the rest.
      pg.exec(tgt, "UPDATE sluice.segments SET changes_seen = CASE seq WHEN " + veryHot + " THEN 2000 WHEN " + hot + " THEN 40 ELSE 1 END "
          + "WHERE job = 'items'");

      Eventually.until(Duration.ofSeconds(30), "the very hot segment split",
          () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND seq = " + veryHot) == 0);
      Eventually.until(Duration.ofSeconds(30), "the parts and the hot segment marked hot",
          () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND heat >= 4") == 5);
      assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND seq = " + hot + " AND heat >= 4"));
      assertEquals(4, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND seq > " + last + " AND heat >= 4"),
          "four parts, hot: " + segments(tgt));
      assertEquals(4000, pg.scalar(tgt, "SELECT sum(rows_planned) FROM sluice.segments WHERE job = 'items' AND seq > " + last), "the parts' rows");
      long changes = pg.scalar(tgt, "SELECT sum(changes_seen) FROM sluice.segments WHERE job = 'items' AND seq > " + last);
      assertTrue(changes >= 1996 && changes <= 2004, "the parts share the 2,000 changes: " + changes);
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND seq <> " + hot + " AND seq <= " + last + " AND heat >= 4"));
      LiveReads.Heatmap map = Await.result(LiveReads.heatmaps(db)).get("items");
      assertEquals(5, map.hot().size(), "the heatmap's hot list: " + map.hot());

      // Claims: every cold segment before any hot one. Which is hot is read once, before the claims: the
      // agent's ranker keeps ranking what is still pending against its mean, so a segment's heat read
      // after its claim may already be relative to the hot ones left (0.25 for the 40 changes).
      Map<Integer, Double> heatBefore = new HashMap<>();
      try (var c = pg.connect(tgt); var st = c.createStatement();
           var rs = st.executeQuery("SELECT seq, heat FROM sluice.segments WHERE job = 'items'")) {
        while (rs.next()) heatBefore.put(rs.getInt(1), rs.getDouble(2));
      }
      Ledger claimer = new Ledger(db, "test-claimer");
      List<Double> heats = new ArrayList<>();
      for (Segment s; (s = Await.result(claimer.claim("items", Duration.ofMinutes(5), true))) != null; ) {
        heats.add(heatBefore.get(s.seq()));
      }
      assertEquals(13, heats.size(), "every segment claimed: " + heats);
      for (int i = 0; i < 8; i++) assertTrue(heats.get(i) < 4, "cold first: " + heats);
      for (int i = 8; i < 13; i++) assertTrue(heats.get(i) >= 4, "hot last: " + heats);

      // With the flag off (order "key"): segments handed back, claimed again in the plan's order, whatever their heat.
      pg.exec(tgt, "UPDATE sluice.segments SET state = 'pending', owner = NULL, lease_expires_at = NULL WHERE job = 'items'");
      List<Integer> seqs = new ArrayList<>();
      for (Segment s; (s = Await.result(claimer.claim("items", Duration.ofMinutes(5), false))) != null; ) seqs.add(s.seq());
      List<Integer> sorted = new ArrayList<>(seqs);
      sorted.sort(null);
      assertEquals(13, seqs.size());
      assertEquals(sorted, seqs, "the plan's order");
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      db.close();
      Await.result(vertx.close());
    }
  }
}
