package dev.sluice.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sluice.testing.TestPg;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A job's segment history as the ledger's audit trail records it, and the invariant of leases:
 * for every segment, claims carry strictly increasing epochs, and every recorded write of segment
 * state is by the agent holding the latest claim, at that claim's epoch. So no segment's copy is
 * ever recorded under two agents at once, and an owner change always comes with an epoch change.
 */
final class LeaseHistory {
  record Event(long id, int seq, String agent, String kind, String message, long epoch) {}

  /** Events of writes that only a lease holder may make. */
  private static final Set<String> LEASED_WRITES = Set.of("segment.copying", "segment.copied", "segment.verified",
      "segment.failed", "segment.retry", "segment.released");

  private final List<Event> events = new ArrayList<>();

  LeaseHistory(TestPg pg, String db, String job) {
    try (Connection c = pg.connect(db); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT id, segment, agent, kind, message, coalesce((details->>'epoch')::bigint, -1) "
            + "FROM sluice.events WHERE job = '" + job + "' AND segment IS NOT NULL ORDER BY id")) {
      while (r.next()) events.add(new Event(r.getLong(1), r.getInt(2), r.getString(3), r.getString(4), r.getString(5), r.getLong(6)));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  List<Event> of(String kind) {
    return events.stream().filter(e -> e.kind().equals(kind)).toList();
  }

  static boolean isClaim(Event e) {
    return e.kind().equals("segment.copying") && e.message().contains("(attempt");
  }

  /** Asserts the invariant above; returns the number of ownership changes (takeovers and re-claims). */
  int assertOneOwnerAtATime() {
    Map<Integer, Event> holder = new HashMap<>();
    int claims = 0;
    for (Event e : events) {
      if (!LEASED_WRITES.contains(e.kind())) continue;
      if (isClaim(e)) {
        Event prev = holder.get(e.seq());
        if (prev != null) assertTrue(e.epoch() > prev.epoch(), "segment " + e.seq() + ": claim " + e + " after " + prev + " without a new epoch");
        holder.put(e.seq(), e);
        claims++;
        continue;
      }
      Event h = holder.get(e.seq());
      if (h == null) fail("segment " + e.seq() + ": " + e + " recorded before any claim");
      if (!h.agent().equals(e.agent()) || h.epoch() != e.epoch()) {
        fail("segment " + e.seq() + ": " + e + " recorded while " + h.agent() + " held the lease at epoch " + h.epoch());
      }
    }
    return claims - holder.size();
  }

  /** Every segment verified exactly once. */
  void assertEachVerifiedOnce(int segments) {
    Map<Integer, Integer> n = new HashMap<>();
    for (Event e : of("segment.verified")) n.merge(e.seq(), 1, Integer::sum);
    assertEquals(segments, n.size(), "segments verified");
    n.forEach((seq, count) -> assertEquals(1, count, "segment " + seq + " verified " + count + " times"));
  }

  /** The claims of a segment, in order. */
  List<Event> claims(int seq) {
    return events.stream().filter(e -> e.seq() == seq && isClaim(e)).toList();
  }
}
