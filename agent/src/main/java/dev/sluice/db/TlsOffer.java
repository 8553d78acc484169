package dev.sluice.db;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Asks a server whether it offers TLS, as every {@code sslmode=prefer} client does first (an SSLRequest;
 * the answer is one byte, {@code S} or {@code N}), on a socket of its own that it closes at once.
 *
 * <p>Why Sluice asks itself: vertx-pg-client's {@code PREFER} against a server without TLS, while that
 * server shuts down, left a start-up backend of the server waiting for the client until
 * {@code authentication_timeout} (60 s by default), and PostgreSQL (15 and older) waits for it before it
 * exits: a fast restart of the source took 62 s instead of 2 (3 of 3 runs; 2-3 s with {@code DISABLE},
 * measured with {@code PostgresRestartTest} and the default {@code authentication_timeout}), and
 * {@code pg_ctl restart}, which waits 60 s, gave up and left the server down. A server that answers
 * {@code N} is connected to without TLS, as {@code prefer} would after the same answer; one that
 * answers {@code S} gets the client's own {@code PREFER}, and is not asked again (a server logs a client
 * that leaves after {@code S}, "could not accept SSL connection: EOF detected"; after {@code N} it logs
 * nothing). Blocking: for worker threads.
 */
public final class TlsOffer {
  /** How long the one-byte answer may take (pgjdbc's own {@code sslResponseTimeout} is 5 s). */
  static final int ANSWER_MS = 5_000;
  private static final int SSL_REQUEST_CODE = 80877103;
  /** Servers (host:port) that answered {@code S}: their clients use their own {@code PREFER} from then on. */
  private static final Set<String> OFFERING = ConcurrentHashMap.newKeySet();

  private TlsOffer() {}

  /**
   * True when the server offers TLS, false when it declines. A server that takes the connection and
   * does not answer in time (one shutting down no longer takes new clients but keeps its port open)
   * fails the attempt here, its socket closed, rather than the connection waiting on it.
   */
  public static boolean offered(String host, int port, int connectTimeoutMs) throws IOException {
    String server = host + ":" + port;
    if (OFFERING.contains(server)) return true;
    try (Socket s = new Socket()) {
      try {
        s.connect(new InetSocketAddress(host, port), connectTimeoutMs);
      } catch (IOException e) {
        return true; // not reachable: the client's own attempt fails the same way and says so as it always did
      }
      s.setSoTimeout(ANSWER_MS);
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeInt(8);
      out.writeInt(SSL_REQUEST_CODE);
      out.flush();
      InputStream in = s.getInputStream();
      int answer;
      try {
        answer = in.read();
      } catch (SocketTimeoutException e) {
        throw new SocketTimeoutException("the server at " + host + ":" + port + " took the connection and did not answer its TLS "
            + "request within " + ANSWER_MS / 1000 + " s (shutting down, or overloaded)");
      }
      if (answer == 'N') return false;
      if (answer == 'S') OFFERING.add(server);
      // An error message (an old server, or a pooler that refuses the request): let the client's own prefer decide.
      return true;
    }
  }
}
