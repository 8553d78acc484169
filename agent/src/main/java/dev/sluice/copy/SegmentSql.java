package dev.sluice.copy;

import dev.sluice.config.Sql;
import dev.sluice.inspect.JobShape;
import dev.sluice.inspect.RowHash;
import dev.sluice.plan.KeyRange;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL Sluice runs for one segment, built once per job from its {@link JobShape}.
 *
 * <p>Row hash: the job's {@link RowHash} of the row of mapped columns typed as in the target, summed
 * over the segment (mod 2^64). On the source it is computed in the same query that streams (or
 * copies) the rows, so verifying costs no second read of the source.
 *
 * <p>Fence: every write to the target first takes {@code FOR KEY SHARE} on the segment's ledger row
 * at the writer's lease epoch, while the lease is unexpired, in the same statement. A takeover
 * (whose claim locks the row {@code FOR UPDATE SKIP LOCKED}) skips the row until the in-flight write
 * commits, and a write after a takeover or expiry finds no row and writes nothing. {@code KEY SHARE}
 * rather than {@code SHARE}: the owner's own heartbeat (a plain UPDATE, which takes {@code NO KEY
 * UPDATE}) must be able to renew the lease while a long write (a server-side copy of a whole
 * segment) holds the fence, or the lease would expire under its own write. Hence the rule for any
 * statement that takes a lease away from its holder (a claim, a rollback): it must lock the row
 * {@code FOR UPDATE} first, which waits for (or, with {@code SKIP LOCKED}, skips) in-flight writes.
 */
public final class SegmentSql {
  /** Parameters $1..$4 of every fenced statement: job, seq, owner, epoch. */
  public static final int FENCE_PARAMS = 4;
  /**
   * Every insert of a row's values into the target says so: the copy's COPY FROM writes a GENERATED
   * ALWAYS identity column's values as given, and an INSERT without it refuses them (error 428C9), so
   * a target whose key is such a column took the copy and refused every captured change.
   */
  public static final String OVERRIDING = "OVERRIDING SYSTEM VALUE ";

  private static final String FENCE = "f AS (SELECT 1 FROM sluice.segments WHERE job = $1 AND seq = $2 AND owner = $3 "
      + "AND lease_epoch = $4 AND lease_expires_at > now() FOR KEY SHARE)";

  private final JobShape shape;
  private final List<ColumnKind> kinds;
  private final RowHash hash;

  public SegmentSql(JobShape shape) {
    this.shape = shape;
    this.kinds = shape.columns().stream().map(c -> ColumnKind.of(c.type())).toList();
    this.hash = shape.rowHash();
  }

  /** How each column travels, in column order. */
  public List<ColumnKind> kinds() {
    return kinds;
  }

  public JobShape shape() {
    return shape;
  }

  private KeyRange.Predicate sourceRange(KeyRange r, int first) {
    return r.predicate(shape.sourceKey(), shape.keyTypes(), first);
  }

  private KeyRange.Predicate targetRange(KeyRange r, int first) {
    return r.predicate(shape.targetKey(), shape.keyTypes(), first);
  }

  private String sourceRows(KeyRange.Predicate p, boolean ordered) {
    return "SELECT " + shape.sourceProjection() + " FROM " + shape.job().source().table().sql()
        + " WHERE " + shape.whereClause() + " AND " + p.sql() + (ordered ? " ORDER BY " + shape.sourceKeyOrder() : "");
  }

  /**
   * One keyset page of a segment, packed into ONE row: {@code count(*)}, the sum of the row hashes
   * (as text), per column the page's values aggregated into one array in its text form, then per key
   * column the page's first and last key as text. The agent decodes no value: it hands each array
   * text to the target, whose {@code array_in} parses it as COPY would. Pages follow the key
   * ({@code (key) > (last key) ORDER BY key LIMIT n}); every aggregate reads the ordered rows in one
   * pass, so the arrays are zipped row by row and the last element is the page's last key.
   *
   * <p>The row hash ({@link RowHash}) reuses the transported text where it may (so each value is
   * formatted once, not twice); {@code OFFSET 0} keeps the planner from inlining, and so
   * repeating, those casts. Params: the range, then the last key of the previous page (when
   * {@code after} is not null), then the page size.
   */
  public Statement read(KeyRange r, List<String> after, int rows) {
    KeyRange.Predicate p = sourceRange(r, 1);
    List<Object> params = new ArrayList<>(p.params());
    String cond = p.sql();
    if (after != null) {
      List<String> cols = shape.sourceKey().stream().map(Sql::ident).toList();
      List<String> vals = new ArrayList<>();
      for (int i = 0; i < after.size(); i++) vals.add("$" + (params.size() + 1 + i) + "::text::" + shape.keyTypes().get(i));
      cond += cols.size() == 1 ? " AND " + cols.get(0) + " > " + vals.get(0)
          : " AND (" + String.join(", ", cols) + ") > (" + String.join(", ", vals) + ")";
      params.addAll(after);
    }
    params.add((long) rows);
    List<String> inner = new ArrayList<>();
    List<String> aggs = new ArrayList<>();
    List<String> hashed = new ArrayList<>();
    List<String> out = new ArrayList<>();
    for (int i = 0; i < kinds.size(); i++) {
      JobShape.Column c = shape.columns().get(i);
      ColumnKind k = kinds.get(i);
      String ref = "s." + Sql.ident(c.name());
      // A column the hash takes typed is packed typed too: array_out prints each value with its
      // output function, as ::text would, without a text copy in between (the target parses the
      // same text either way). Otherwise the packed value is the text the hash may reuse.
      boolean typed = hash.typed(i);
      inner.add((typed ? ref : k.select(ref)) + " AS v" + i);
      aggs.add("array_agg(t.v" + i + ") AS a" + i);
      out.add("b.a" + i + "::text");
      // A text hash takes the transported text where it prints what the record's text would (a
      // RowHash text part is the ::text, which the transport is).
      boolean transported = hash.record() || k != ColumnKind.TEXT || textCastIsOutput(c.type());
      if (transported) {
        hashed.add("t.v" + i);
      } else {
        inner.add(ref + " AS r" + i);
        hashed.add("t.r" + i);
      }
    }
    for (int k : keyColumns()) {
      out.add("b.a" + k + "[1]::text");
      out.add("b.a" + k + "[b.n]::text");
    }
    String page = "SELECT " + shape.sourceProjection() + " FROM " + shape.job().source().table().sql() + " WHERE " + shape.whereClause()
        + " AND " + cond + " ORDER BY " + shape.sourceKeyOrder() + " LIMIT $" + params.size();
    return new Statement("SELECT b.n, b.h::text, " + String.join(", ", out) + " FROM (SELECT count(*) AS n, "
        + "coalesce(sum(" + hash.of(hashed) + "), 0) AS h, " + String.join(", ", aggs)
        + " FROM (SELECT " + String.join(", ", inner) + " FROM (" + page + ") s OFFSET 0) t) b", params);
  }

  /** Positions of the key columns in the column list, in key order. */
  int[] keyColumns() {
    List<JobShape.Column> cols = shape.columns();
    return shape.targetKey().stream().mapToInt(k -> {
      for (int i = 0; i < cols.size(); i++) if (cols.get(i).name().equals(k)) return i;
      throw new IllegalStateException("key column " + k + " is not mapped");
    }).toArray();
  }

  /**
   * Types whose {@code ::text} is their output function (an I/O cast or a binary-coercible one).
   * Not so for e.g. boolean ('true' vs 't'), char(n) (trims) or inet (adds the mask): those are
   * hashed from the typed value.
   */
  static boolean textCastIsOutput(String type) {
    return switch (type) {
      case "text", "bigint", "integer", "smallint", "date", "uuid", "double precision", "real" -> true;
      default -> type.startsWith("character varying") || type.startsWith("numeric") || type.startsWith("timestamp");
    };
  }

  /** Count and hash of a source range, fresh (used when a segment changed after its copy). */
  public Statement sourceHash(KeyRange r) {
    KeyRange.Predicate p = sourceRange(r, 1);
    return new Statement("SELECT count(*), " + hash.sum("s") + "::text FROM (" + sourceRows(p, false) + ") s",
        p.params());
  }

  /** Rows of a source range, fresh (a suspect copy's recount, see {@link ShortCopy}). */
  public Statement sourceCount(KeyRange r) {
    KeyRange.Predicate p = sourceRange(r, 1);
    return new Statement("SELECT count(*) FROM " + shape.job().source().table().sql() + " WHERE " + shape.whereClause() + " AND "
        + p.sql(), p.params());
  }

  /** Count and hash of a target range. */
  public Statement targetHash(KeyRange r) {
    KeyRange.Predicate p = targetRange(r, 1);
    return new Statement("SELECT count(*), " + hash.sum("t") + "::text FROM (SELECT "
        + shape.targetColumnList() + " FROM " + shape.job().target().table().sql() + " WHERE " + p.sql() + ") t", p.params());
  }

  /**
   * Fenced upsert of one batch. Params: fence ($1-$4), then one array text per column, parsed by the
   * target as an array of its {@link ColumnKind}. Returns one row: (fence rows, rows written).
   * Unchanged rows are not rewritten, so a re-copy makes no dead tuples.
   */
  public String upsert() {
    return write(onConflict());
  }

  /**
   * The same write without {@code ON CONFLICT}: for a first attempt into a range nothing has written
   * yet, where the upsert's speculative insertion would cost more than the insert itself. A row
   * already there fails it with 23505 (unique_violation); the copier then purges and upserts.
   */
  public String insert() {
    return write(null);
  }

  private String write(String conflict) {
    List<String> casts = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    List<String> arrays = new ArrayList<>();
    for (int i = 0; i < kinds.size(); i++) {
      JobShape.Column c = shape.columns().get(i);
      casts.add("u." + Sql.ident(c.name()) + "::" + c.type());
      texts.add("$" + (FENCE_PARAMS + 1 + i) + "::text AS a" + i);
      arrays.add("unnest(p.a" + i + "::" + kinds.get(i).arrayType() + ") AS " + Sql.ident(c.name()));
    }
    // The array texts come in through a MATERIALIZED CTE so the planner sees no constant it could
    // parse: with the parameters bound, unnest's row estimate would otherwise run array_in over
    // every array at planning, then again at execution (half the parsing, in perf). unnest in the
    // select list, not in FROM: the arrays (all of one length) are zipped row by row as they are
    // read, where FROM unnest(a, b, ..) first materialises each array into a tuple store.
    return "WITH " + FENCE + ", p AS MATERIALIZED (SELECT " + String.join(", ", texts) + "), "
        + "ins AS (INSERT INTO " + shape.job().target().table().sql() + " AS t (" + shape.targetColumnList() + ") " + OVERRIDING
        + "SELECT " + String.join(", ", casts) + " FROM (SELECT " + String.join(", ", arrays) + " FROM p) AS u "
        + "WHERE EXISTS (SELECT 1 FROM f) " + (conflict == null ? "" : conflict + " ") + "RETURNING 1) "
        + "SELECT (SELECT count(*) FROM f), (SELECT count(*) FROM ins)";
  }


  public String onConflict() {
    List<JobShape.Column> rest = shape.nonKeyColumns();
    if (rest.isEmpty()) return "ON CONFLICT (" + shape.targetKeyList() + ") DO NOTHING";
    String set = rest.stream().map(c -> Sql.ident(c.name()) + " = EXCLUDED." + Sql.ident(c.name())).collect(Collectors.joining(", "));
    return "ON CONFLICT (" + shape.targetKeyList() + ") DO UPDATE SET " + set + " WHERE " + RowDiffers.sql(rest, "t", "EXCLUDED");
  }

  /** Fenced delete of a target range before a re-copy. Params: fence, then the range. Returns (fence rows, deleted). */
  public Statement purge(KeyRange r) {
    KeyRange.Predicate p = targetRange(r, FENCE_PARAMS + 1);
    return new Statement("WITH " + FENCE + ", d AS (DELETE FROM " + shape.job().target().table().sql() + " WHERE EXISTS (SELECT 1 FROM f) AND "
        + p.sql() + " RETURNING 1) SELECT (SELECT count(*) FROM f), (SELECT count(*) FROM d)", p.params());
  }

  /**
   * Same-database copy of a whole segment in one statement, with the source count and hash taken in
   * the same statement (so from the same snapshot). Params: fence, then the range. Returns (fence
   * rows, source rows, source hash).
   *
   * <p>When reading the range twice must give the same rows and values (every column a plain source
   * column, no row filter), the insert and the hash each scan the range: every part of one statement
   * sees its snapshot, and two scans cost less than materialising the rows for both to share (about
   * 12% of the statement on the benchmark table, PROFILE.md). A column expression or a filter might
   * be volatile ({@code random()}), so then the rows are materialised once and both read that.
   * {@code plain}: without {@code ON CONFLICT}, for a first attempt (see {@link #insert()}).
   */
  public Statement serverCopy(KeyRange r, boolean plain) {
    KeyRange.Predicate p = sourceRange(r, FENCE_PARAMS + 1);
    String insert = "INSERT INTO " + shape.job().target().table().sql() + " AS t (" + shape.targetColumnList() + ") " + OVERRIDING
        + "SELECT * FROM %s "
        + "WHERE EXISTS (SELECT 1 FROM f) " + (plain ? "" : onConflict() + " ") + "RETURNING 1";
    if (!sourceReadsRepeat()) {
      return new Statement("WITH " + FENCE + ", s AS MATERIALIZED (" + sourceRows(p, false) + "), ins AS (" + insert.formatted("s") + ") "
          + "SELECT (SELECT count(*) FROM f), (SELECT count(*) FROM s), (SELECT " + hash.sum("s") + " FROM s)::text", p.params());
    }
    String rows = "(" + sourceRows(p, false) + ") s";
    return new Statement("WITH " + FENCE + ", ins AS (" + insert.formatted(rows) + "), h AS (SELECT count(*) AS n, " + hash.sum("s")
        + " AS hs FROM " + rows + ") SELECT (SELECT count(*) FROM f), h.n, h.hs::text FROM h", p.params());
  }

  /** Every mapped column is a plain source column (a quoted name, as the inspector writes it) and there is no row filter. */
  boolean sourceReadsRepeat() {
    return shape.job().source().where() == null
        && shape.columns().stream().allMatch(c -> c.expression().matches("\"([^\"]|\"\")+\""));
  }

  /** The target table's DDL when Sluice creates it: the mapped columns, the key as primary key (see {@link dev.sluice.inspect.KeyCollations}). */
  public String createTarget() {
    List<String> defs = new ArrayList<>();
    for (JobShape.Column c : shape.columns()) {
      int k = shape.targetKey().indexOf(c.name());
      // A key column sorts as the source's does (KeyCollations chose the collation), so key ranges
      // hold the same rows on both sides.
      defs.add(Sql.ident(c.name()) + " " + c.type() + (c.key() && k >= 0 ? shape.targetKeyCollate(k) : ""));
    }
    String cols = String.join(", ", defs);
    return "CREATE TABLE IF NOT EXISTS " + shape.job().target().table().sql() + " (" + cols + ", PRIMARY KEY (" + shape.targetKeyList() + "))";
  }

  /** A SQL text with its positional parameters. */
  public record Statement(String sql, List<Object> params) {}
}
