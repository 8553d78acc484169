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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The cold-first order against a real PostgreSQL: a job with change capture (so cold-first by
 * default) is planned but held by a closed window; the captured changes the ledger holds for its
 * segments (one very hot, one warm, the rest cold; counted by the change applier from real writes
 * in {@code capture.ChangesSeenTest}, set here directly) make its agent's ranking store their heat,
 * split the very hot pending segment into parts that inherit its heat and a share of its changes,
 * then rank the parts by their own changes and mark them hot (the heatmap's hot list). The test
 * asserts that settled state (the parts' inherited heat is only there until the next round), with
 * the agent stopped so nothing re-ranks under the claims. Claims then take the segments coldest
 * first: the cold ones, the warm one, the hot parts last; with the cold-first flag off they take key order.
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
    boolean stopped = false;
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
      // The parts start with the very hot segment's heat (hundreds); the next rounds rank them by their own
      // changes. Settled: four parts, each re-ranked and still hot. Then the agent stops, so the heat claims
      // see is the heat asserted here (its ranking would otherwise go on between the two).
      Eventually.until(Duration.ofSeconds(30), "the parts ranked by their own changes",
          () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND seq > " + last + " AND heat >= 4 AND heat < 100") == 4);
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      stopped = true;
      assertEquals(4, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND seq > " + last), "four parts: " + segments(tgt));
      assertEquals(4000, pg.scalar(tgt, "SELECT sum(rows_planned) FROM sluice.segments WHERE job = 'items' AND seq > " + last), "the parts' rows");
      long changes = pg.scalar(tgt, "SELECT sum(changes_seen) FROM sluice.segments WHERE job = 'items' AND seq > " + last);
      assertTrue(changes >= 1996 && changes <= 2004, "the parts share the 2,000 changes: " + changes);
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND seq <> " + hot + " AND seq <= " + last + " AND heat >= 4"),
          "no cold segment is hot: " + segments(tgt));
      // The segment with 40 changes ranks above every cold one (it may drop below 4 once the parts' changes
      // raise the baseline: the mean of all segments but the hottest 10%, where three parts remain).
      assertTrue(pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND seq <> " + hot + " AND seq <= " + last
          + " AND heat >= (SELECT heat FROM sluice.segments WHERE job = 'items' AND seq = " + hot + ")") == 0, "the warm segment above the cold: " + segments(tgt));
      long hotCount = pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND heat >= 4");
      LiveReads.Heatmap map = Await.result(LiveReads.heatmaps(db)).get("items");
      assertEquals(hotCount, map.hot().size(), "the heatmap's hot list: " + map.hot() + segments(tgt));

      // Claims: coldest first, so every cold segment, then the warm one, then the hot parts.
      Ledger claimer = new Ledger(db, "test-claimer");
      List<Double> heats = new ArrayList<>();
      List<Long> seqs0 = new ArrayList<>();
      for (Segment s; (s = Await.result(claimer.claim("items", Duration.ofMinutes(5), true))) != null; ) {
        seqs0.add((long) s.seq());
        heats.add((double) pg.scalar(tgt, "SELECT (heat * 1000)::bigint FROM sluice.segments WHERE job = 'items' AND seq = " + s.seq()) / 1000);
      }
      assertEquals(13, heats.size(), "every segment claimed: " + heats);
      List<Double> ascending = new ArrayList<>(heats);
      ascending.sort(null);
      assertEquals(ascending, heats, "coldest first");
      for (int i = 0; i < 8; i++) assertTrue(heats.get(i) < 4 && seqs0.get(i) != hot, "cold first: " + heats + " " + seqs0);
      assertEquals(hot, seqs0.get(8), "then the warm one: " + seqs0);
      for (int i = 9; i < 13; i++) assertTrue(heats.get(i) >= 4 && seqs0.get(i) > last, "hot parts last: " + heats + " " + seqs0);

      // With the flag off (order "key"): segments handed back, claimed again in the plan's order, whatever their heat.
      pg.exec(tgt, "UPDATE sluice.segments SET state = 'pending', owner = NULL, lease_expires_at = NULL WHERE job = 'items'");
      List<Integer> seqs = new ArrayList<>();
      for (Segment s; (s = Await.result(claimer.claim("items", Duration.ofMinutes(5), false))) != null; ) seqs.add(s.seq());
      List<Integer> sorted = new ArrayList<>(seqs);
      sorted.sort(null);
      assertEquals(13, seqs.size());
      assertEquals(sorted, seqs, "the plan's order");
    } finally {
      if (!stopped) Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      db.close();
      Await.result(vertx.close());
    }
  }
}
