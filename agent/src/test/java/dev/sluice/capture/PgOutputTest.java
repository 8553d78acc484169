package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testing.TestPg;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The pgoutput decoder and the key extraction on real bytes from PostgreSQL: the messages recorded
 * from a PostgreSQL 15 server running {@code pgoutput/scenario.sql} ({@code pgoutput-pg15.hex}, made
 * with {@code pg_logical_slot_peek_binary_changes}), and the same scenario replayed now against the
 * test server (PostgreSQL 14 when embedded), whose bytes must decode to the same facts.
 */
class PgOutputTest {
  private final TestPg pg = TestPg.get();

  @Test
  void recordedPg15Stream() throws IOException {
    checkScenario(recorded("pgoutput/pgoutput-pg15.hex"));
  }

  @Test
  void liveStreamOfTheTestServer() throws Exception {
    Assumptions.assumeTrue("logical".equals(pg.string("postgres", "SHOW wal_level")), "the test server has wal_level=logical");
    String db = pg.createDatabase("pgo");
    List<byte[]> live = new ArrayList<>();
    try (Connection c = pg.connect(db); Statement s = c.createStatement()) {
      for (String stmt : scenario()) s.execute(stmt);
      try (ResultSet r = s.executeQuery("SELECT data FROM pg_logical_slot_peek_binary_changes('fx', NULL, NULL, "
          + "'proto_version', '1', 'publication_names', 'fx', 'messages', 'true')")) {
        while (r.next()) live.add(r.getBytes(1));
      }
      s.execute("SELECT pg_drop_replication_slot('fx')");
    }
    pg.exec("postgres", "DROP DATABASE " + db);
    checkScenario(live);
  }

  /** The facts both servers' streams must show. */
  private static void checkScenario(List<byte[]> stream) {
    List<PgOutput.Message> all = new ArrayList<>();
    for (byte[] b : stream) all.add(PgOutput.decode(ByteBuffer.wrap(b)));
    // PostgreSQL 14 sends transactions that changed no published table as an empty begin and commit;
    // 15 and later skip them. The facts below are about the others.
    List<PgOutput.Message> msgs = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i) instanceof PgOutput.Begin && i + 1 < all.size() && all.get(i + 1) instanceof PgOutput.Commit) {
        i++;
        continue;
      }
      msgs.add(all.get(i));
    }
    StringBuilder tags = new StringBuilder();
    for (PgOutput.Message m : msgs) tags.append(m.getClass().getSimpleName().charAt(0) == 'L' ? 'M' : m.getClass().getSimpleName().charAt(0));
    // 13 transactions that changed published tables (the rolled-back one is never sent), one
    // non-transactional message.
    assertEquals("BTRIIC BUC BUC BDC BRIIC BUC BDC BRIC BUC BDC BIUUC M BMC BTRTC".replace(" ", ""), tags.toString());

    PgOutput.Relation items = (PgOutput.Relation) msgs.get(2);
    assertEquals("public", items.namespace());
    assertEquals("fx_items", items.name());
    assertEquals('d', items.replicaIdentity());
    assertEquals(List.of("id", "name", "qty", "mood", "big"), items.columns().stream().map(PgOutput.Column::name).toList());
    assertEquals(List.of(true, false, false, false, false), items.columns().stream().map(PgOutput.Column::key).toList());
    assertEquals(20, items.columns().get(0).typeOid()); // int8
    PgOutput.Type mood = (PgOutput.Type) msgs.get(1);
    assertEquals("fx_mood", mood.name());
    assertEquals(mood.oid(), items.columns().get(3).typeOid());

    PgOutput.Insert first = (PgOutput.Insert) msgs.get(3);
    assertEquals(items.oid(), first.relation());
    assertEquals("1", first.tuple().get(0).text());
    assertEquals("happy", first.tuple().get(3).text());
    assertEquals(5000, first.tuple().get(4).text().length());
    PgOutput.Insert second = (PgOutput.Insert) msgs.get(4);
    assertEquals(PgOutput.Kind.NULL, second.tuple().get(3).kind());

    PgOutput.Begin begin = (PgOutput.Begin) msgs.get(0);
    PgOutput.Commit commit = (PgOutput.Commit) msgs.get(5);
    assertEquals(begin.finalLsn(), commit.commitLsn());
    assertTrue(commit.endLsn() > commit.commitLsn());
    assertEquals(begin.commitMicros(), commit.commitMicros());
    long year = java.time.Instant.ofEpochMilli(PgOutput.epochMillis(commit.commitMicros())).atZone(java.time.ZoneOffset.UTC).getYear();
    assertTrue(year >= 2024, "commit time decodes to a plausible date: " + year);

    // An update of another column: no old key, the stored-outside big value is not sent.
    PgOutput.Update qty = (PgOutput.Update) msgs.get(7);
    assertNull(qty.old());
    assertEquals(PgOutput.Kind.UNCHANGED_TOAST, qty.tuple().get(4).kind());
    assertEquals("10", qty.tuple().get(2).text());
    // An update of the key: the old key comes along, the other old columns do not.
    PgOutput.Update key = (PgOutput.Update) msgs.get(10);
    assertEquals('K', key.oldKind());
    assertEquals("2", key.old().get(0).text());
    assertEquals(PgOutput.Kind.NULL, key.old().get(1).kind());
    assertEquals("3", key.tuple().get(0).text());
    PgOutput.Delete del = (PgOutput.Delete) msgs.get(13);
    assertEquals('K', del.oldKind());
    assertEquals("1", del.old().get(0).text());

    // REPLICA IDENTITY FULL: whole old rows, every column flagged as identity.
    PgOutput.Relation full = (PgOutput.Relation) msgs.stream().filter(m -> m instanceof PgOutput.Relation r && r.name().equals("fx_full"))
        .findFirst().orElseThrow();
    assertEquals('f', full.replicaIdentity());
    assertTrue(full.columns().stream().allMatch(PgOutput.Column::key));
    PgOutput.Update fullUpdate = (PgOutput.Update) msgs.get(31);
    assertEquals('O', fullUpdate.oldKind());
    assertEquals("1", fullUpdate.old().get(1).text());

    PgOutput.LogicalMessage heartbeat = (PgOutput.LogicalMessage) msgs.get(41);
    assertFalse(heartbeat.transactional());
    assertEquals("sluice.heartbeat", heartbeat.prefix());
    assertEquals("fx", new String(heartbeat.content(), StandardCharsets.UTF_8));
    PgOutput.LogicalMessage inTx = (PgOutput.LogicalMessage) msgs.get(43);
    assertTrue(inTx.transactional());
    PgOutput.Truncate truncate = (PgOutput.Truncate) msgs.get(48);
    assertEquals(List.of(((PgOutput.Relation) msgs.get(47)).oid()), truncate.relations());
    assertFalse(truncate.cascade());

    // The keys each table's capture takes from the same stream, transaction by transaction.
    assertEquals(List.of(List.of(List.of("1"), List.of("2")), List.of(List.of("1")), List.of(List.of("3"), List.of("2")),
        List.of(List.of("1")), List.of(List.of("10"))), keysByTransaction(stream, "fx_items", List.of("id")));
    assertEquals(List.of(List.of(List.of("1", "a,b \"c\" \\ d"), List.of("2", "ünïcödé")),
        List.of(List.of("2", "new"), List.of("2", "ünïcödé")), List.of(List.of("1", "a,b \"c\" \\ d"))),
        keysByTransaction(stream, "fx_pairs", List.of("a", "b")));
    assertEquals(List.of(List.of(List.of("k1")), List.of(List.of("k1")), List.of(List.of("k1"))),
        keysByTransaction(stream, "fx_full", List.of("k")));

    WalKeys keysOfAll = new WalKeys("public", "fx_items", List.of("id"));
    boolean truncated = false;
    for (byte[] b : stream) {
      keysOfAll.accept(ByteBuffer.wrap(b));
      truncated |= keysOfAll.takeTruncated();
    }
    assertTrue(truncated, "the TRUNCATE of the job's table is reported");
    assertFalse(keysOfAll.inTransaction());
    assertEquals(((PgOutput.Commit) msgs.get(msgs.size() - 1)).endLsn(), keysOfAll.committedLsn());
    assertEquals(all.stream().filter(m -> m instanceof PgOutput.Commit).count(), keysOfAll.transactions());
    // Folded: keys 1, 2, 3 and 10, each once, with its first transaction's commit time.
    Map<List<String>, Long> folded = keysOfAll.takeKeys();
    assertEquals(List.of(List.of("1"), List.of("2"), List.of("3"), List.of("10")), new ArrayList<>(folded.keySet()));
    assertEquals(begin.commitMicros(), folded.get(List.of("1")));
    assertEquals(0, keysOfAll.pendingKeys());

    // A key the replica identity does not cover cannot be captured: refused when the relation arrives.
    WalKeys byName = new WalKeys("public", "fx_items", List.of("name"));
    WalKeys.Unusable e = assertThrows(WalKeys.Unusable.class, () -> {
      for (byte[] b : stream) byName.accept(ByteBuffer.wrap(b));
    });
    assertTrue(e.getMessage().contains("replica identity of public.fx_items does not cover key column name"), e.getMessage());
  }

  private static List<List<List<String>>> keysByTransaction(List<byte[]> stream, String table, List<String> key) {
    WalKeys keys = new WalKeys("public", table, key);
    List<List<List<String>>> out = new ArrayList<>();
    for (byte[] b : stream) {
      keys.accept(ByteBuffer.wrap(b));
      if (!keys.inTransaction() && keys.pendingKeys() > 0) out.add(new ArrayList<>(keys.takeKeys().keySet()));
    }
    return out;
  }

  @Test
  void malformedMessagesAreRefused() {
    assertThrows(PgOutput.Malformed.class, () -> PgOutput.decode(ByteBuffer.wrap(new byte[] {'B', 0, 0})));
    assertThrows(PgOutput.Malformed.class, () -> PgOutput.decode(ByteBuffer.wrap(new byte[] {'S', 0, 0, 0, 1})));
    // An insert whose tuple is sent in binary ('b'), which capture never asks for.
    byte[] binary = HexFormat.of().parseHex("49000040024e0001620000000100");
    assertThrows(PgOutput.Malformed.class, () -> PgOutput.decode(ByteBuffer.wrap(binary)));
  }

  @Test
  void skippedColumnsAreNotDecoded() {
    byte[] insert = HexFormat.of().parseHex("49000040024e000374000000013174000000036f6e65740000000131");
    PgOutput.Insert i = (PgOutput.Insert) PgOutput.decode(ByteBuffer.wrap(insert), rel -> new boolean[] {true, false, false});
    assertEquals("1", i.tuple().get(0).text());
    assertEquals(PgOutput.Kind.SKIPPED, i.tuple().get(1).kind());
    assertArrayEquals(new PgOutput.Kind[] {PgOutput.Kind.TEXT, PgOutput.Kind.SKIPPED, PgOutput.Kind.SKIPPED},
        i.tuple().values().stream().map(PgOutput.Value::kind).toArray());
  }

  private static List<byte[]> recorded(String resource) throws IOException {
    try (InputStream in = PgOutputTest.class.getClassLoader().getResourceAsStream(resource)) {
      assertNotNull(in, resource);
      List<byte[]> out = new ArrayList<>();
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (line.isBlank() || line.startsWith("#")) continue;
        String[] f = line.trim().split(" ");
        out.add(HexFormat.of().parseHex(f[f.length - 1]));
      }
      return out;
    }
  }

  static List<String> scenario() throws IOException {
    try (InputStream in = PgOutputTest.class.getClassLoader().getResourceAsStream("pgoutput/scenario.sql")) {
      List<String> out = new ArrayList<>();
      for (String part : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n--;\n")) {
        String sql = part.lines().filter(l -> !l.startsWith("--")).reduce("", (a, b) -> a + b + "\n").trim();
        if (!sql.isEmpty()) out.add(sql);
      }
      return out;
    }
  }
}
