package dev.sluice.ledger;

import dev.sluice.config.ConfigWatcher;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * The config versions an agent put in force ({@code sluice.config_versions}): hash, time, the
 * content with secrets removed, and what changed. Recording a version and its audit event is one
 * statement, like every other state change in the ledger. A rejected reload is an event only.
 */
public final class ConfigVersions implements ConfigWatcher.Versions {
  private final Pool db;
  private final String agentId;

  public ConfigVersions(Pool db, String agentId) {
    this.db = db;
    this.agentId = agentId;
  }

  /**
   * Records the version this agent started with, unless the newest recorded version already has
   * that hash (agents restarting on an unchanged file do not pile up copies).
   */
  @Override
  public Future<Void> started(String hash, JsonObject content) {
    return db.preparedQuery("WITH v AS (INSERT INTO sluice.config_versions (hash, agent, cause, content) "
            + "SELECT $1, $2, 'start', $3 WHERE $1 IS DISTINCT FROM "
            + "(SELECT hash FROM sluice.config_versions ORDER BY id DESC LIMIT 1) RETURNING id) "
            + "INSERT INTO sluice.events (agent, kind, message, details) SELECT $2, 'config.applied', "
            + "'config version ' || left($1, 12) || ' in force (agent start)', json_build_object('hash', $1, 'version', id)::jsonb FROM v")
        .execute(Tuple.of(hash, agentId, content)).mapEmpty();
  }

  /** Records a reloaded version and its audit event (with the list of changes). */
  @Override
  public Future<Long> reloaded(String hash, JsonObject content, JsonArray changes, String summary) {
    return db.preparedQuery("WITH v AS (INSERT INTO sluice.config_versions (hash, agent, cause, content, changes) "
            + "VALUES ($1, $2, 'reload', $3, $4) RETURNING id), "
            + "e AS (INSERT INTO sluice.events (agent, kind, message, details) SELECT $2, 'config.applied', "
            + "'config reloaded (version ' || left($1, 12) || '): ' || $5, json_build_object('hash', $1, 'version', id, 'changes', $4::jsonb)::jsonb "
            + "FROM v) SELECT id FROM v")
        .execute(Tuple.of(hash, agentId, content, changes, summary))
        .map(rows -> rows.iterator().next().getLong(0));
  }

  /** A reload that was refused: the running config stays; the audit trail says why. */
  @Override
  public Future<Void> rejected(String hash, String message, JsonArray problems) {
    return db.preparedQuery("INSERT INTO sluice.events (agent, kind, message, details) VALUES ($1, 'config.rejected', $2, $3)")
        .execute(Tuple.of(agentId, message, new JsonObject().put("hash", hash).put("problems", problems)))
        .mapEmpty();
  }

  /** The newest versions, newest first. */
  public Future<JsonArray> recent(int limit) {
    return db.preparedQuery("SELECT id, hash, applied_at::text, agent, cause, content, changes FROM sluice.config_versions "
            + "ORDER BY id DESC LIMIT $1")
        .execute(Tuple.of(limit))
        .map(rows -> {
          JsonArray out = new JsonArray();
          for (Row r : rows) {
            out.add(new JsonObject().put("id", r.getLong(0)).put("hash", r.getString(1)).put("appliedAt", r.getString(2))
                .put("agent", r.getString(3)).put("cause", r.getString(4)).put("content", r.getValue(5)).put("changes", r.getValue(6)));
          }
          return out;
        });
  }
}
