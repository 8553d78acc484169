package dev.sluice.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hot reload: reads the config file every {@value #POLL_MS} ms (a file read, not a watch service,
 * so editors that save by renaming and files on network mounts or Kubernetes ConfigMaps work alike)
 * and, when its content hash changes and stays the same for {@value #SETTLE_MS} ms (so a file caught
 * half-written is not judged), puts the new version in force or refuses it whole:
 *
 * <ol>
 *   <li>the loader validates it completely (every problem with its JSON path);
 *   <li>{@link ConfigDiff} sorts the changes; any that cannot apply live refuses the file (breaker
 *       and sessions settings, and a job's capture, verify and drift settings, are accepted and
 *       reported as applying at the next restart);
 *   <li>the agent applies it (new jobs are first checked against the databases);
 *   <li>the version (hash, time, content without secrets, changes) goes to the ledger.
 * </ol>
 *
 * A refused file leaves the running config in force; the reason goes to the log, the audit trail
 * ({@code config.rejected}) and the dashboard. The same content is not examined twice.
 */
public final class ConfigWatcher {
  private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);
  static final long POLL_MS = 500;
  // A changed file is read again this much later and used only if unchanged: not half-written.
  static final long SETTLE_MS = 150;
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String RESTART_NOTE = "(applies at the next restart; the running agent keeps the values it started with)";

  /** Puts a validated config in force; fails (changing nothing it can avoid) when it cannot. */
  public interface Applier extends BiFunction<SluiceConfig, ConfigDiff.Result, Future<Void>> {}

  /** Where versions and refusals are recorded (the ledger's {@code config_versions} and audit trail). */
  public interface Versions {
    Future<Void> started(String hash, JsonObject content);

    Future<Long> reloaded(String hash, JsonObject content, JsonArray changes, String summary);

    Future<Void> rejected(String hash, String message, JsonArray problems);
  }

  /** A file that parsed and validated: the config and its JSON tree (for the diff). */
  private record Parsed(SluiceConfig config, JsonNode tree) {}

  private final Vertx vertx;
  private final Path file;
  private final Versions versions;
  private final Applier applier;
  private JsonNode running;
  // The file as the agent started with it: the deferred settings (see ConfigDiff) stay in force until a restart.
  private JsonNode started;
  private String runningHash;
  private String lastSeenHash;
  private String settling;
  private long timer = -1;
  private boolean busy;
  private volatile JsonObject status = new JsonObject();
  // Reloads put in force and refused since start, and whether the last one was put in force (for /metrics).
  private final AtomicLong reloadsApplied = new AtomicLong();
  private final AtomicLong reloadsRejected = new AtomicLong();
  private volatile boolean lastReloadOk = true;

  public ConfigWatcher(Vertx vertx, Path file, Versions versions, Applier applier) {
    this.vertx = vertx;
    this.file = file.toAbsolutePath();
    this.versions = versions;
    this.applier = applier;
  }

  /** Takes the file as it is now as the running version, records it, and starts watching. */
  public Future<Void> start() {
    return vertx.fileSystem().readFile(file.toString()).compose(buf -> {
      String text = buf.toString();
      runningHash = hash(buf);
      lastSeenHash = runningHash;
      try {
        running = JSON.readTree(text);
        started = running;
      } catch (Exception e) {
        return Future.failedFuture(new IllegalStateException("config file " + file + " changed while the agent started; restart it"));
      }
      status = new JsonObject().put("file", file.toString()).put("hash", runningHash).put("appliedAt", Instant.now().toString());
      timer = vertx.setPeriodic(POLL_MS, t -> poll());
      return versions.started(runningHash, redacted(running)).recover(e -> {
        log.warn("cannot record the config version in the ledger: {}", e.getMessage());
        return Future.succeededFuture();
      });
    });
  }

  public void stop() {
    if (timer >= 0) vertx.cancelTimer(timer);
  }

  /** Edited versions put in force since start (an edit that changes nothing is not counted). */
  public long reloadsApplied() {
    return reloadsApplied.get();
  }

  /** Edited versions refused since start (the running config stayed in force). */
  public long reloadsRejected() {
    return reloadsRejected.get();
  }

  /** False from a refused reload until the next one is put in force. */
  public boolean lastReloadOk() {
    return lastReloadOk;
  }

  /** The version in force and the last reload's outcome. */
  public JsonObject status() {
    return status;
  }

  private void poll() {
    if (busy) return;
    busy = true;
    vertx.fileSystem().readFile(file.toString())
        .compose(buf -> {
          String h = hash(buf);
          if (h.equals(lastSeenHash)) return Future.succeededFuture();
          if (!h.equals(settling)) {
            settling = h;
            vertx.setTimer(SETTLE_MS, t -> poll());
            return Future.succeededFuture();
          }
          lastSeenHash = h;
          return consider(buf.toString(), h);
        })
        .onFailure(e -> log.debug("config file {} not readable right now: {}", file, e.getMessage()))
        .onComplete(x -> busy = false);
  }

  private Future<Void> consider(String text, String hash) {
    // Parsing reads environment variables and may look up the host name: on a worker, not the event loop.
    return vertx.executeBlocking(() -> new Parsed(ConfigLoader.parse(text), JSON.readTree(text)), false)
        .transform(ar -> {
          if (ar.succeeded()) return consider(ar.result().config(), ar.result().tree(), hash);
          Throwable e = ar.cause();
          return reject(hash, "invalid config", e instanceof ConfigException ce
              ? ce.problems().stream().map(ConfigProblem::toString).toList() : List.of(String.valueOf(e.getMessage())));
        });
  }

  private Future<Void> consider(SluiceConfig next, JsonNode tree, String hash) {
    ConfigDiff.Result diff = ConfigDiff.between(running, tree);
    if (!diff.acceptable()) return reject(hash, "change cannot apply while running", diff.refused());
    if (diff.empty()) {
      running = tree;
      runningHash = hash;
      if (!lastReloadOk) restored(hash);
      return Future.succeededFuture();
    }
    return applier.apply(next, diff)
        .compose(v -> accepted(tree, hash, diff))
        .recover(e -> reject(hash, "cannot apply", e instanceof ConfigException ce
            ? ce.problems().stream().map(ConfigProblem::toString).toList() : List.of(String.valueOf(e.getMessage()))));
  }

  private Future<Void> accepted(JsonNode tree, String hash, ConfigDiff.Result diff) {
    running = tree;
    runningHash = hash;
    reloadsApplied.incrementAndGet();
    lastReloadOk = true;
    JsonArray changes = new JsonArray();
    diff.live().forEach(c -> changes.add(new JsonObject().put("path", c.path()).put("before", c.before()).put("after", c.after())));
    diff.addedJobs().forEach(j -> changes.add(new JsonObject().put("path", "jobs[" + j + "]").put("before", "(none)").put("after", "added")));
    diff.deferred().forEach(c -> changes.add(new JsonObject().put("path", c.path()).put("before", c.before()).put("after", c.after())
        .put("applies", "at next restart")));
    String summary = summary(diff);
    log.info("config reloaded from {} (version {}): {}", file, hash.substring(0, 12), summary);
    if (!diff.deferred().isEmpty()) {
      log.warn("config {}: {} {}", file.getFileName(), ConfigDiff.describe(diff.deferred()), RESTART_NOTE);
    }
    // What differs from the values in force since start (a later reload may have changed them back).
    JsonArray pending = new JsonArray();
    ConfigDiff.between(started, tree).deferred().forEach(c -> pending.add(c.toString()));
    status = new JsonObject().put("file", file.toString()).put("hash", hash).put("appliedAt", Instant.now().toString())
        .put("pendingRestart", pending)
        .put("lastReload", new JsonObject().put("at", Instant.now().toString()).put("ok", true).put("message", summary)
            .put("changes", changes));
    return versions.reloaded(hash, redacted(tree), changes, summary)
        .onFailure(e -> log.warn("config version not recorded in the ledger: {}", e.getMessage()))
        .<Void>mapEmpty()
        .otherwiseEmpty();
  }

  /**
   * The file says what is in force again (the refused edit was undone): the refusal is over, so the
   * dashboard's banner and {@code sluice_config_last_reload_successful} (the SluiceConfigReloadFailed
   * alert) clear, where before they stayed until the next real change or a restart.
   */
  private void restored(String hash) {
    lastReloadOk = true;
    String message = "config file " + file.getFileName() + " matches the running config again (the refused edit was undone)";
    log.info(message);
    status = status.copy().put("hash", hash).put("lastReload", new JsonObject().put("at", Instant.now().toString()).put("ok", true)
        .put("message", message).put("changes", new JsonArray()));
  }

  private Future<Void> reject(String hash, String what, List<String> problems) {
    String message = "config file " + file.getFileName() + " rejected (" + what + "); the running config stays in force: "
        + String.join("; ", problems);
    log.error(message);
    reloadsRejected.incrementAndGet();
    lastReloadOk = false;
    JsonArray list = new JsonArray(List.copyOf(problems));
    status = status.copy().put("lastReload", new JsonObject().put("at", Instant.now().toString()).put("ok", false)
        .put("message", message).put("problems", list).put("rejectedHash", hash));
    return versions.rejected(hash, message, list)
        .onFailure(e -> log.warn("config rejection not recorded in the ledger: {}", e.getMessage()))
        .otherwiseEmpty();
  }

  private static String summary(ConfigDiff.Result diff) {
    StringBuilder sb = new StringBuilder(ConfigDiff.describe(diff.live()));
    if (!diff.addedJobs().isEmpty()) sb.append(sb.length() == 0 ? "" : "; ").append("jobs added: ").append(String.join(", ", diff.addedJobs()));
    if (!diff.deferred().isEmpty()) {
      sb.append(sb.length() == 0 ? "" : "; ").append(ConfigDiff.describe(diff.deferred())).append(" ").append(RESTART_NOTE);
    }
    return sb.toString();
  }

  private static JsonObject redacted(JsonNode tree) {
    return new JsonObject(Secrets.redact(tree).toString());
  }

  static String hash(Buffer buf) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(buf.getBytes()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
