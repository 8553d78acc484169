package dev.sluice.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/**
 * The byte pump the loopback test proxies share: one daemon thread a direction copies what one
 * socket sends to the other, unchanged. When either side goes away (end of stream or an error), the
 * pump closes both sockets, so the other direction's pump ends too. A {@link Gate} runs before each
 * read and before each write: it may block there (a freeze holds the bytes without closing anything)
 * or throw to end the pump.
 */
final class ProxyPump {
  /** Runs before each read and each write of a pump; it blocks to hold the bytes, throws to end. */
  @FunctionalInterface
  interface Gate {
    void pass() throws IOException;
  }

  /** A gate that never holds: the bytes flow as they come. */
  static final Gate OPEN = () -> {};

  private ProxyPump() {}

  /** Starts both directions between {@code client} and {@code upstream}, each on a thread {@code threadName}. */
  static void join(Socket client, Socket upstream, String threadName, Gate gate) {
    start(client, upstream, threadName, gate);
    start(upstream, client, threadName, gate);
  }

  private static void start(Socket from, Socket to, String threadName, Gate gate) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16384];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        while (true) {
          gate.pass();
          int n = in.read(buf);
          if (n < 0) break;
          gate.pass();
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // one side went away: the other follows
      } finally {
        close(from);
        close(to);
      }
    }, threadName);
    t.setDaemon(true);
    t.start();
  }

  /** Closes {@code s}, ignoring that it may be closed already. */
  static void close(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }
}
