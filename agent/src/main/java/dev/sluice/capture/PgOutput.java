package dev.sluice.capture;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Decodes the messages of PostgreSQL's {@code pgoutput} logical decoding plugin, protocol version 1
 * (what a logical replication stream started with {@code proto_version '1'} sends; see "Logical
 * Replication Message Formats" in PostgreSQL's documentation). Pure: bytes in, records out.
 *
 * <p>Only what change capture needs is kept: relation descriptions (to find the key columns), the
 * transaction boundaries with their LSNs and commit times, and the column values of each changed
 * tuple as text. Binary values ({@code binary 'true'}) are never asked for; a stream with them, or
 * with in-progress transactions ({@code streaming}), is refused as unexpected.
 */
public final class PgOutput {
  private PgOutput() {}

  /** Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01. */
  static final long PG_EPOCH_MICROS = 946_684_800_000_000L;

  /** One decoded message. */
  public sealed interface Message permits Begin, Commit, Relation, Insert, Update, Delete, Truncate, LogicalMessage, Origin, Type {}

  /** 'B': a transaction starts; {@code finalLsn} is its commit record's LSN. */
  public record Begin(long finalLsn, long commitMicros, int xid) implements Message {}

  /** 'C': the transaction ends; {@code endLsn} is where the WAL after its commit record begins. */
  public record Commit(long commitLsn, long endLsn, long commitMicros) implements Message {}

  /** 'R': a table's description, sent before its first change in a session and after each change of its shape. */
  public record Relation(int oid, String namespace, String name, char replicaIdentity, List<Column> columns) implements Message {}

  /** A column of a {@link Relation}; {@code key}: part of the replica identity. */
  public record Column(String name, boolean key, int typeOid, int typeModifier) {}

  /** 'I'. */
  public record Insert(int relation, Tuple tuple) implements Message {}

  /**
   * 'U'. {@code old} is null unless the replica identity changed ('K': only its columns are set) or
   * the table has REPLICA IDENTITY FULL ('O': the whole old row).
   */
  public record Update(int relation, char oldKind, Tuple old, Tuple tuple) implements Message {}

  /** 'D': {@code old} holds the replica identity ('K') or the whole row ('O'). */
  public record Delete(int relation, char oldKind, Tuple old) implements Message {}

  /** 'T': {@code cascade} and {@code restartIdentity} are the statement's options. */
  public record Truncate(List<Integer> relations, boolean cascade, boolean restartIdentity) implements Message {}

  /** 'M' ({@code pg_logical_emit_message}, sent when the stream asks for {@code messages 'true'}). */
  public record LogicalMessage(boolean transactional, long lsn, String prefix, byte[] content) implements Message {}

  /** 'O': the transaction came from another node through logical replication. */
  public record Origin(long commitLsn, String name) implements Message {}

  /** 'Y': a non-built-in type's name, sent before a relation that uses it. */
  public record Type(int oid, String namespace, String name) implements Message {}

  /** A tuple's columns: each null, unchanged TOAST (the value was not sent), or its text. */
  public record Tuple(List<Value> values) {
    public Value get(int i) {
      return values.get(i);
    }
  }

  /** One column of a tuple. {@code text} is set only for {@link Kind#TEXT}. */
  public record Value(Kind kind, String text) {
    static final Value NULL = new Value(Kind.NULL, null);
    static final Value UNCHANGED = new Value(Kind.UNCHANGED_TOAST, null);
    static final Value SKIPPED = new Value(Kind.SKIPPED, null);
  }

  public enum Kind {
    NULL,
    UNCHANGED_TOAST,
    TEXT,
    /** A value that was sent but not decoded (not a column the caller wanted). */
    SKIPPED
  }

  /** A message the decoder does not accept; the stream cannot be trusted after it. */
  public static final class Malformed extends RuntimeException {
    Malformed(String message) {
      super(message, null, false, false);
    }
  }

  /** Decodes one message (the payload of one XLogData frame), every column's value included. */
  public static Message decode(ByteBuffer buf) {
    return decode(buf, rel -> null);
  }

  /**
   * Decodes one message; {@code wanted} gives, per relation OID, which columns' values to decode (null:
   * all). The others are skipped unread ({@link Kind#SKIPPED}): capture needs the keys, not the rows.
   */
  public static Message decode(ByteBuffer buf, IntFunction<boolean[]> wanted) {
    try {
      char tag = (char) buf.get();
      return switch (tag) {
        case 'B' -> new Begin(buf.getLong(), buf.getLong(), buf.getInt());
        case 'C' -> {
          buf.get(); // flags, unused
          yield new Commit(buf.getLong(), buf.getLong(), buf.getLong());
        }
        case 'R' -> relation(buf);
        case 'I' -> {
          int rel = buf.getInt();
          expect(buf, 'N');
          yield new Insert(rel, tuple(buf, wanted.apply(rel)));
        }
        case 'U' -> {
          int rel = buf.getInt();
          boolean[] w = wanted.apply(rel);
          char k = (char) buf.get();
          Tuple old = null;
          if (k == 'K' || k == 'O') {
            old = tuple(buf, w);
          } else {
            buf.position(buf.position() - 1);
            k = ' ';
          }
          expect(buf, 'N');
          yield new Update(rel, k, old, tuple(buf, w));
        }
        case 'D' -> {
          int rel = buf.getInt();
          char k = (char) buf.get();
          if (k != 'K' && k != 'O') throw new Malformed("delete without the old key (got '" + k + "')");
          yield new Delete(rel, k, tuple(buf, wanted.apply(rel)));
        }
        case 'T' -> {
          int n = buf.getInt();
          int opts = buf.get();
          List<Integer> rels = new ArrayList<>(n);
          for (int i = 0; i < n; i++) rels.add(buf.getInt());
          yield new Truncate(rels, (opts & 1) != 0, (opts & 2) != 0);
        }
        case 'M' -> {
          boolean tx = (buf.get() & 1) != 0;
          long lsn = buf.getLong();
          String prefix = cstring(buf);
          byte[] content = new byte[buf.getInt()];
          buf.get(content);
          yield new LogicalMessage(tx, lsn, prefix, content);
        }
        case 'O' -> new Origin(buf.getLong(), cstring(buf));
        case 'Y' -> new Type(buf.getInt(), cstring(buf), cstring(buf));
        default -> throw new Malformed("unexpected pgoutput message '" + tag + "' (streamed or two-phase transactions are not asked for)");
      };
    } catch (java.nio.BufferUnderflowException e) {
      throw new Malformed("pgoutput message cut short");
    }
  }

  private static Relation relation(ByteBuffer buf) {
    int oid = buf.getInt();
    String ns = cstring(buf);
    String name = cstring(buf);
    char identity = (char) buf.get();
    int n = buf.getShort();
    List<Column> cols = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      boolean key = (buf.get() & 1) != 0;
      cols.add(new Column(cstring(buf), key, buf.getInt(), buf.getInt()));
    }
    return new Relation(oid, ns, name, identity, List.copyOf(cols));
  }

  private static Tuple tuple(ByteBuffer buf, boolean[] wanted) {
    int n = buf.getShort();
    List<Value> vals = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      char kind = (char) buf.get();
      switch (kind) {
        case 'n' -> vals.add(Value.NULL);
        case 'u' -> vals.add(Value.UNCHANGED);
        case 't' -> {
          int len = buf.getInt();
          if (wanted != null && (i >= wanted.length || !wanted[i])) {
            buf.position(buf.position() + len);
            vals.add(Value.SKIPPED);
          } else {
            vals.add(new Value(Kind.TEXT, utf8(buf, len)));
          }
        }
        default -> throw new Malformed("unexpected column kind '" + kind + "' (binary values are not asked for)");
      }
    }
    return new Tuple(vals);
  }

  private static void expect(ByteBuffer buf, char c) {
    char got = (char) buf.get();
    if (got != c) throw new Malformed("expected '" + c + "' in a pgoutput tuple, got '" + got + "'");
  }

  /** A NUL-terminated UTF-8 string (names are in the server's encoding; Sluice's sessions use UTF8). */
  private static String cstring(ByteBuffer buf) {
    int start = buf.position();
    int end = start;
    while (buf.get(end) != 0) end++;
    String s = utf8(buf, end - start);
    buf.get(); // the NUL
    return s;
  }

  private static String utf8(ByteBuffer buf, int len) {
    if (buf.hasArray()) {
      String s = new String(buf.array(), buf.arrayOffset() + buf.position(), len, StandardCharsets.UTF_8);
      buf.position(buf.position() + len);
      return s;
    }
    byte[] b = new byte[len];
    buf.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  /** A PostgreSQL timestamp (microseconds since 2000-01-01) as an instant. */
  public static java.time.Instant instant(long pgMicros) {
    return java.time.Instant.EPOCH.plusNanos((pgMicros + PG_EPOCH_MICROS) * 1000);
  }

  /** A PostgreSQL timestamp (microseconds since 2000-01-01) as Unix epoch milliseconds. */
  public static long epochMillis(long pgMicros) {
    return (pgMicros + PG_EPOCH_MICROS) / 1000;
  }
}
