package dev.sluice.capture;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a pgoutput stream into what change capture needs: the changed keys of one table, and the
 * position up to which every committed transaction's keys have been handed out. Pure: messages in,
 * keys and LSNs out; no I/O, no clock.
 *
 * <p>For each change of the table it keeps the key of the new row (inserts, updates) and of the old
 * row (deletes, and updates that changed the replica identity: PostgreSQL then sends the old key).
 * Keys are folded while they wait: a key changed many times is handed out once. The keys of a
 * transaction may be handed out before its commit message arrives (pgoutput protocol 1 sends only
 * committed transactions, whole), which bounds the memory of a huge transaction; but
 * {@link #committedLsn()} moves only at a commit, so a position is confirmed to the server only when
 * every key before it is recorded.
 *
 * <p>The replica identity must cover the job's key: the old key of a delete or of a key-changing
 * update is known only from it. A relation whose identity does not, or that lost a key column, or a
 * key value the server did not send (unchanged TOAST with no old key), stops the stream with the
 * reason ({@link Unusable}): continuing would lose changes silently.
 */
public final class WalKeys {
  private final String namespace;
  private final String table;
  private final List<String> key;
  private final int tableOid;
  private final Map<Integer, Shape> relations = new HashMap<>();
  private final Map<List<String>, Long> pending = new LinkedHashMap<>();
  private long currentCommitMicros;
  private int currentXid;
  private final Set<Integer> pendingXids = new LinkedHashSet<>();
  private int[] takenXids = new int[0];
  private boolean inTransaction;
  private long committedLsn;
  private long lastCommitMicros;
  private long transactions;
  private long changes;
  private boolean truncated;

  /** The relation's key positions (in the job's key order) and which columns to decode. */
  private record Shape(int[] positions, boolean[] wanted) {}

  /** The stream cannot be used to capture the table's changes any more; the message says why. */
  public static final class Unusable extends RuntimeException {
    public Unusable(String message) {
      super(message, null, false, false);
    }
  }

  /** {@code namespace.table}: the job's source table as the server names it; {@code key}: its key columns. */
  public WalKeys(String namespace, String table, List<String> key) {
    this(namespace, table, key, 0);
  }

  /**
   * {@code tableOid}: the source table's OID (0 when unknown). A relation with that OID is the job's
   * table whatever it is named now: a table renamed (or moved to another schema) while a job runs keeps
   * its OID, its publication and, in trigger mode, its triggers, and its changes must not be dropped.
   */
  public WalKeys(String namespace, String table, List<String> key, int tableOid) {
    this.namespace = namespace;
    this.table = table;
    this.key = List.copyOf(key);
    this.tableOid = tableOid;
  }

  /** Takes one message. */
  public void accept(ByteBuffer message) {
    accept(PgOutput.decode(message, oid -> {
      Shape s = relations.get(oid);
      return s == null ? null : s.wanted;
    }));
  }

  public void accept(PgOutput.Message m) {
    if (m instanceof PgOutput.Begin b) {
      inTransaction = true;
      currentCommitMicros = b.commitMicros();
      currentXid = b.xid();
    } else if (m instanceof PgOutput.Commit c) {
      inTransaction = false;
      committedLsn = Math.max(committedLsn, c.endLsn());
      lastCommitMicros = c.commitMicros();
      transactions++;
    } else if (m instanceof PgOutput.Relation r) {
      relation(r);
    } else if (m instanceof PgOutput.Insert i) {
      Shape s = relations.get(i.relation());
      if (s != null) add(keyOf(s, i.tuple(), null, "an insert"));
    } else if (m instanceof PgOutput.Update u) {
      Shape s = relations.get(u.relation());
      if (s != null) {
        add(keyOf(s, u.tuple(), u.old(), "an update"));
        if (u.old() != null) add(keyOf(s, u.old(), null, "an update's old row"));
      }
    } else if (m instanceof PgOutput.Delete d) {
      Shape s = relations.get(d.relation());
      if (s != null) add(keyOf(s, d.old(), null, "a delete"));
    } else if (m instanceof PgOutput.Truncate t) {
      for (int oid : t.relations()) if (relations.containsKey(oid)) truncated = true;
    }
    // Logical messages (heartbeats), origins and types carry no change of the table.
  }

  private void relation(PgOutput.Relation r) {
    boolean named = r.namespace().equals(namespace) && r.name().equals(table);
    if (!named && (tableOid == 0 || r.oid() != tableOid)) {
      relations.remove(r.oid()); // not the job's table (the publication names only it): ignored
      return;
    }
    int[] pos = new int[key.size()];
    boolean[] wanted = new boolean[r.columns().size()];
    for (int k = 0; k < key.size(); k++) {
      pos[k] = -1;
      for (int c = 0; c < r.columns().size(); c++) {
        if (r.columns().get(c).name().equals(key.get(k))) pos[k] = c;
      }
      if (pos[k] < 0) throw new Unusable("key column " + key.get(k) + " is no longer in " + namespace + "." + table);
      if (!r.columns().get(pos[k]).key()) {
        throw new Unusable("the replica identity of " + namespace + "." + table + " does not cover key column " + key.get(k)
            + " (REPLICA IDENTITY " + identity(r.replicaIdentity()) + "): the old key of a delete or key change would be lost; "
            + "use the primary key, or ALTER TABLE .. REPLICA IDENTITY USING INDEX (a unique index on the key) or FULL");
      }
      wanted[pos[k]] = true;
    }
    relations.put(r.oid(), new Shape(pos, wanted));
  }

  private static String identity(char c) {
    return switch (c) {
      case 'd' -> "DEFAULT";
      case 'n' -> "NOTHING";
      case 'f' -> "FULL";
      case 'i' -> "USING INDEX";
      default -> String.valueOf(c);
    };
  }

  /** The key of a tuple; an unchanged TOAST key value is taken from {@code old} (PostgreSQL sends it then). */
  private List<String> keyOf(Shape s, PgOutput.Tuple t, PgOutput.Tuple old, String what) {
    String[] out = new String[s.positions.length];
    for (int k = 0; k < out.length; k++) {
      PgOutput.Value v = t.get(s.positions[k]);
      if (v.kind() == PgOutput.Kind.UNCHANGED_TOAST && old != null) v = old.get(s.positions[k]);
      switch (v.kind()) {
        case TEXT -> out[k] = v.text();
        case NULL -> out[k] = null;
        default -> throw new Unusable("the server did not send key column " + key.get(k) + " of " + what + " in "
            + namespace + "." + table + " (" + v.kind() + ")");
      }
    }
    return Arrays.asList(out);
  }

  private void add(List<String> k) {
    pending.putIfAbsent(k, currentCommitMicros);
    pendingXids.add(currentXid);
    changes++;
  }

  /** True between a transaction's begin and commit messages. */
  public boolean inTransaction() {
    return inTransaction;
  }

  /** Keys waiting to be recorded (folded). */
  public int pendingKeys() {
    return pending.size();
  }

  /** Hands out the waiting keys, each with its (first) transaction's commit time; the caller records them durably. */
  public Map<List<String>, Long> takeKeys() {
    Map<List<String>, Long> out = new LinkedHashMap<>(pending);
    pending.clear();
    takenXids = pendingXids.stream().mapToInt(Integer::intValue).toArray();
    pendingXids.clear();
    return out;
  }

  /** The transactions (ids) whose changes gave the keys {@link #takeKeys} took last: to wait until they are visible ({@link ChangelogWriter#awaitVisible}). */
  public int[] takenXids() {
    return takenXids;
  }

  /** The end of the last committed transaction seen: once the keys taken so far are recorded, the server may forget the WAL before it. */
  public long committedLsn() {
    return committedLsn;
  }

  /** The commit time (PostgreSQL microseconds) of the last committed transaction seen, 0 before any. */
  public long lastCommitMicros() {
    return lastCommitMicros;
  }

  /**
   * The commit time of the transaction being read: from its BEGIN (pgoutput sends a transaction once
   * it committed), so known from its first change on; between transactions the last one's; 0 before any.
   */
  public long readingCommitMicros() {
    return inTransaction ? currentCommitMicros : lastCommitMicros;
  }

  public long transactions() {
    return transactions;
  }

  /** Changes seen (before folding). */
  public long changes() {
    return changes;
  }

  /** Whether the table was truncated since the last call (TRUNCATE removes rows no key names); clears the flag. */
  public boolean takeTruncated() {
    boolean t = truncated;
    truncated = false;
    return t;
  }
}
