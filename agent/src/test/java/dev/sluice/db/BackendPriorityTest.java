package dev.sluice.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.config.SessionLimits;
import dev.sluice.copy.CopySessions;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code sessions.nice}: the server processes of Sluice's sessions (JDBC COPY sessions, pooled
 * connections) and the agent's threads run at the nice value asked for, with the lowest best-effort
 * I/O priority, read back from the kernel ({@code /proc}); a backend that cannot be shown to be the
 * session's own is left alone. The test server runs on this host, as the embedded one always does.
 */
class BackendPriorityTest {
  private final TestPg pg = TestPg.get();

  @BeforeEach
  void forget() {
    BackendPriority.reset();
    assumeTrue(pg.embedded() != null, "needs the server on this host");
  }

  /** A process's (or thread's) nice value: field 19 of its stat line. */
  static int nice(String statPath) throws IOException {
    String stat = Files.readString(Path.of(statPath));
    return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]);
  }

  static long backendPid(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void aJdbcSessionsBackendGetsTheNiceValueAndTheLowestBestEffortIo() throws Exception {
    String db = pg.createDatabase("nice");
    try (Connection c = pg.connect(db)) {
      long pid = backendPid(c);
      int before = nice("/proc/" + pid + "/stat");
      assumeTrue(before < 7, "the test server already runs at nice " + before);
      assertTrue(BackendPriority.lower(c, 7, "test"));
      assertEquals(7, nice("/proc/" + pid + "/stat"));
      assertEquals(null, BackendPriority.run(List.of("sh", "-c", "ionice -p " + pid + " | grep -qx 'best-effort: prio 7'")));
      try (Connection other = pg.connect(db)) {
        assertEquals(before, nice("/proc/" + backendPid(other) + "/stat"), "another session keeps its priority");
      }
    }
  }

  @Test
  void aProcessThatIsNotTheSessionsBackendIsLeftAlone() throws Exception {
    String db = pg.createDatabase("nice");
    try (Connection c = pg.connect(db); Connection other = pg.connect(db)) {
      long pid = backendPid(other);
      int before = nice("/proc/" + pid + "/stat");
      int port;
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT inet_client_port()")) {
        rs.next();
        port = rs.getInt(1);
      }
      assertFalse(BackendPriority.ownBackend(pid, port), "the other session's backend does not name this session's port");
      assertFalse(BackendPriority.lower(pid, port, 7, "test"));
      assertEquals(before, nice("/proc/" + pid + "/stat"));
      assertFalse(BackendPriority.lower(c, 7, "test"), "a database refused once is asked no more");
      assertFalse(BackendPriority.ownBackend(ProcessHandle.current().pid(), port), "not a postgres process");
      assertFalse(BackendPriority.lower(c, 0, "other"), "0: off");
    }
  }

  @Test
  void pooledConnectionsAndCopySessionsRunAtTheNiceValue() throws Exception {
    String db = pg.createDatabase("nice");
    Vertx vertx = Vertx.vertx();
    SessionLimits limits = new SessionLimits(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(60), 5);
    Pool plain = Databases.pool(vertx, pg.database(db), "sluice-plain-test", 1, SessionLimits.NONE);
    Pool pool = Databases.pool(vertx, pg.database(db), "sluice-nice-test", 2, limits);
    CopySessions copy = new CopySessions(pg.database(db), "sluice-nice-copy", Duration.ZERO, Duration.ZERO, Duration.ofSeconds(60), 6);
    try {
      long other = Await.result(plain.query("SELECT pg_backend_pid()").execute()).iterator().next().getInteger(0);
      int before = nice("/proc/" + other + "/stat");
      assumeTrue(before < 5, "the test server already runs at nice " + before);
      long pooled = Await.result(pool.query("SELECT pg_backend_pid()").execute()).iterator().next().getInteger(0);
      assertEquals(5, nice("/proc/" + pooled + "/stat"), "a pooled connection's backend");
      Connection c = copy.take();
      assertEquals(6, nice("/proc/" + backendPid(c) + "/stat"), "a COPY session's backend");
      copy.give(c);
      assertEquals(before, nice("/proc/" + other + "/stat"), "nice 0 leaves a pool alone");
    } finally {
      copy.close();
      Await.result(plain.close());
      Await.result(pool.close());
      Await.result(vertx.close());
    }
  }

  @Test
  void aThreadOrSessionThatEndedMeanwhileIsNoFailure() {
    assertEquals(null, BackendPriority.vanishedOnly(null));
    assertEquals(null, BackendPriority.vanishedOnly("renice: failed to set priority for 4242 (process ID): No such process\n"));
    assertEquals(null, BackendPriority.vanishedOnly("2830 (process ID) old priority 0, new priority 3\n"
        + "renice: failed to set priority for 4242 (process ID): No such process"), "the threads changed, one had ended");
    String denied = "renice: failed to set priority for 1 (process ID): Permission denied";
    assertEquals(denied, BackendPriority.vanishedOnly(denied));
    assertEquals(denied + "\nrenice: failed to set priority for 4242 (process ID): No such process",
        BackendPriority.vanishedOnly(denied + "\nrenice: failed to set priority for 4242 (process ID): No such process"));
    String gone = BackendPriority.run(List.of("renice", "-n", "3", "-p", "2147483646"));
    assertTrue(gone != null && BackendPriority.vanishedOnly(gone) == null, "what renice says of a process that does not exist: " + gone);
  }

  @Test
  void theAgentsThreadsAndTheThreadsTheyStartRunAtTheNiceValue() throws Exception {
    try {
      assertTrue(BackendPriority.lowerAgent(3));
      assertEquals(3, nice("/proc/thread-self/stat"));
      int[] started = new int[1];
      Thread t = new Thread(() -> {
        try {
          started[0] = nice("/proc/thread-self/stat");
        } catch (IOException e) {
          started[0] = -100;
        }
      });
      t.start();
      t.join();
      assertEquals(3, started[0], "a thread started afterwards");
    } finally {
      // Back to the test JVM's own priority for the tests after this one (as root; else it stays lower, harmlessly).
      List<String> all = new ArrayList<>();
      try (var s = Files.list(Path.of("/proc/self/task"))) {
        s.forEach(p -> all.add(p.getFileName().toString()));
      }
      List<String> renice = new ArrayList<>(List.of("renice", "-n", "0", "-p"));
      renice.addAll(all);
      List<String> ionice = new ArrayList<>(List.of("ionice", "-c", "0", "-p"));
      ionice.addAll(all);
      BackendPriority.run(renice);
      BackendPriority.run(ionice);
    }
  }
}
