package dev.sluice.demo;

import dev.sluice.agent.Agent;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.cli.RunCommand;
import dev.sluice.embedded.EmbeddedDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Start an embedded PostgreSQL, seed a table, and migrate it live with the dashboard on. Ctrl-C stops.")
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--rows", defaultValue = "1000000", description = "rows to seed (default ${DEFAULT-VALUE})")
  long rows;

  @Option(names = "--rate", defaultValue = "25000", description = "rows per second (default ${DEFAULT-VALUE})")
  double rate;

  @Option(names = "--port", defaultValue = "8080", description = "dashboard port; a free one is used if it is taken (default ${DEFAULT-VALUE})")
  int port;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    out.println("Starting an embedded PostgreSQL...");
    out.flush();
    EmbeddedDatabase pg = EmbeddedDatabase.start(false);
    // Shutdown hooks run at once: once the agent runs, this one (the server's only: not the embedded
    // server's own) waits for the agent to have stopped, or the agent's sessions are cut under it and
    // logged as lost.
    java.util.concurrent.CountDownLatch agentStopped = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean agentRuns = new java.util.concurrent.atomic.AtomicBoolean();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (agentRuns.get()) {
        try {
          agentStopped.await(35, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      pg.close();
    }, "sluice-demo-pg"));
    pg.createDatabase("app");
    pg.createDatabase("archive");
    out.printf("Seeding app.public.orders with %,d rows...%n", rows);
    out.flush();
    pg.exec("app", """
        CREATE TABLE orders (
          id bigint PRIMARY KEY,
          customer_id int NOT NULL,
          status text NOT NULL,
          total numeric(12,2) NOT NULL,
          note text,
          created_at timestamptz NOT NULL
        )""");
    pg.exec("app", "INSERT INTO orders SELECT g, g % 5000, (ARRAY['new','paid','shipped','draft'])[1 + g % 4], "
        + "round((random() * 500)::numeric, 2), CASE WHEN g % 7 = 0 THEN NULL ELSE 'order ' || g END, "
        + "now() - (g || ' seconds')::interval FROM generate_series(1, " + rows + ") g");
    pg.exec("app", "ANALYZE orders");

    String token = UUID.randomUUID().toString().replace("-", "");
    int httpPort = portFree(port) ? port : EmbeddedDatabase.freePort();
    JsonObject config = new JsonObject()
        .put("source", new JsonObject().put("url", pg.url("app")))
        .put("target", new JsonObject().put("url", pg.url("archive")))
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", httpPort).put("token", token))
        .put("jobs", new JsonArray().add(new JsonObject()
            .put("name", "orders")
            .put("source", new JsonObject().put("table", "public.orders").put("key", new JsonArray().add("id"))
                .put("where", "status <> 'draft'"))
            .put("target", new JsonObject().put("table", "public.orders").put("create", true))
            .put("columns", new JsonObject().put("id", "id").put("customer_id", "customer_id").put("status", "status")
                .put("total_cents", "round(total * 100)::bigint").put("note", "note").put("created_at", "created_at"))
            .put("segment", new JsonObject().put("rows", 20000))
            .put("batch", new JsonObject().put("rows", 2000))
            .put("pace", new JsonObject().put("rowsPerSecond", rate))
            .put("concurrency", new JsonObject().put("max", 4))
            // The embedded server runs with wal_level=logical: changes come from its WAL, off the writers' path.
            .put("capture", new JsonObject().put("mode", "logical"))));
    // Written to a file the agent watches, so editing it shows hot reload (rates, concurrency, new jobs).
    java.nio.file.Path file = java.nio.file.Files.createTempFile("sluice-demo-", ".json",
        java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    file.toFile().deleteOnExit();
    java.nio.file.Files.writeString(file, config.encodePrettily());
    SluiceConfig cfg = ConfigLoader.parse(config.encode());
    Agent agent = new Agent(cfg).watching(file);
    out.println();
    out.println("Sluice demo: migrating app.public.orders -> archive.public.orders at " + (long) rate + " rows/s");
    out.println("  dashboard:   http://127.0.0.1:" + httpPort + "/");
    out.println("  API:         http://127.0.0.1:" + httpPort + "/api/jobs");
    out.println("  token:       " + token + "   (for the dashboard's controls)");
    out.println("  PostgreSQL:  " + pg.url("app") + " and " + pg.url("archive"));
    out.println("  config:      " + file + "   (edit it: changes apply live)");
    out.println("Press Ctrl-C to stop.");
    out.flush();
    agentRuns.set(true);
    return RunCommand.run(agent, file, false, out, spec.commandLine().getErr(), agentStopped::countDown);
  }

  private static boolean portFree(int port) {
    try (java.net.ServerSocket s = new java.net.ServerSocket()) {
      s.bind(new java.net.InetSocketAddress("127.0.0.1", port));
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
