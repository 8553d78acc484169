package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.FreezingProxy;
import dev.sluice.testing.LogCapture;
import dev.sluice.testing.TestPg;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A read API call whose database does not answer gets a 503 within {@code http.readTimeoutMs}, and
 * the next read works. Before, the read pools had no timeout at all: a read behind a lock on the
 * table (an {@code ALTER TABLE} waiting, a {@code LOCK}) waited as long as the lock was held, and one
 * on a connection gone silent (a partition, a frozen host) for ever, with every later read queued
 * behind it on the pool's four connections.
 */
class ReadTimeoutTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aReadTheDatabaseDoesNotAnswerGets503InTimeAndTheNextOneWorks() throws Exception {
    String src = pg.createDatabase("rt_src");
    String tgt = pg.createDatabase("rt_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 2000) g");
    ExecutorService pool = Executors.newFixedThreadPool(12);
    try (FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port()); LogCapture logs = LogCapture.root()) {
      // Every read from the source (targetPercent 0), through a proxy that can silence the read sessions.
      String config = """
          {"source": {"url": "postgresql://postgres@127.0.0.1:%d/%s"}, "target": {"url": "%s"},
           "http": {"port": 0, "token": "%s", "readToken": "%s", "readTimeoutMs": 1000},
           "health": {"foreground": {"enabled": false}},
           "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
             "target": {"table": "public.items", "create": true}, "capture": {"enabled": false}, "verify": {"finalPass": false},
             "cache": {"enabled": false}, "reads": {"targetPercent": 0}}]}"""
          .formatted(proxy.port(), src, pg.url(tgt), ReadTests.CONTROL_TOKEN, ReadTests.READ_TOKEN);
      Agent agent = Agents.start(config);
      try {
        ReadClient client = new ReadClient(agent.httpPort(), ReadTests.READ_TOKEN);
        assertEquals(200, client.get("items", List.of("7")).status());

        // A live database that cannot answer in time: the table locked by another session.
        try (Connection locker = pg.connect(src); Statement st = locker.createStatement()) {
          locker.setAutoCommit(false);
          st.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE");
          long t0 = System.nanoTime();
          ReadClient.Response r = client.get("items", List.of("7"));
          double took = (System.nanoTime() - t0) / 1e9;
          locker.rollback();
          assertEquals(503, r.status(), r.body());
          assertTrue(r.body().contains("http.readTimeoutMs"), r.body());
          assertTrue(took >= 0.9 && took < 5, "answered after " + took + " s");
        }
        assertEquals(200, client.get("items", List.of("8")).status());

        // Three times as many readers at once as the pool has connections, behind the same lock for 2.5 s: each
        // gets its answer (a 503 saying why) within about the read timeout of its turn or of its wait for a
        // connection; none is taken for a silent database (the wait for a connection is not a stall).
        try (Connection locker = pg.connect(src); Statement st = locker.createStatement()) {
          locker.setAutoCommit(false);
          st.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE");
          List<CompletableFuture<ReadClient.Response>> burst = new ArrayList<>();
          for (int i = 0; i < 12; i++) {
            String key = Integer.toString(100 + i);
            burst.add(CompletableFuture.supplyAsync(() -> client.get("items", List.of(key)), pool));
          }
          Eventually.pause(2500);
          locker.rollback();
          for (CompletableFuture<ReadClient.Response> f : burst) {
            ReadClient.Response b = f.get(30, TimeUnit.SECONDS);
            assertTrue(b.status() == 200 || (b.status() == 503 && !b.body().contains("stalled")), b.status() + " " + b.body());
          }
        }
        assertTrue(logs.messages(Level.WARN, "stalled").isEmpty(), "no stall: " + logs.messages(Level.WARN, "stalled"));
        assertEquals(200, client.get("items", List.of("8")).status());

        // A silent one: the read sessions' connections frozen (no reset, no answer).
        List<Integer> reads = pg.strings(src, "SELECT client_port::text FROM pg_stat_activity WHERE application_name = 'sluice-reads' "
            + "AND datname = current_database()").stream().map(Integer::valueOf).toList();
        assertTrue(proxy.freezeOpen(reads) >= 1, "the read sessions frozen: " + reads);
        long t0 = System.nanoTime();
        ReadClient.Response r = client.get("items", List.of("9"));
        double took = (System.nanoTime() - t0) / 1e9;
        assertEquals(503, r.status(), r.body());
        assertTrue(r.body().contains("the source stalled") && r.body().contains("http.readTimeoutMs 1000 + 1 s"), r.body());
        assertTrue(took >= 1.9 && took < 6, "answered after " + took + " s");
        // The frozen connections were reset; a next read (within a moment: the pool lets go of them as they close) opens a fresh one.
        ReadClient.Response next = Eventually.value(Duration.ofSeconds(5), "a read on a fresh connection", () -> {
          ReadClient.Response n = client.get("items", List.of("9"));
          return n.status() == 200 ? n : null;
        });
        assertTrue(next.body().contains("item 9"), next.body());
      } finally {
        proxy.thaw();
        Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
