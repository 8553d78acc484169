package dev.sluice.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on a loopback port in front of a server that can be told to {@link #freeze()}: it then
 * stops forwarding in both directions without closing anything, as a network partition or a frozen
 * host does (no reset, no FIN). It reads nothing while frozen (beyond the one buffer a direction may
 * hold), so the sender's socket buffers fill and its writes block, as they would. {@link #thaw()}
 * lets the bytes flow again. A connection either side closes is closed on the other side too.
 */
public final class FreezingProxy implements AutoCloseable {
  private final ServerSocket server;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicInteger accepted = new AtomicInteger();
  private final Object lock = new Object();
  private boolean frozen;
  private final java.util.Set<Integer> frozenOnes = new java.util.HashSet<>();
  /** Each connection's upstream socket's local port (the server's {@code client_port} for it), by number. */
  private final java.util.Map<Integer, Integer> upstreamPorts = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile boolean closed;

  public FreezingProxy(String host, int port) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(() -> {
      while (!closed) {
        try {
          Socket client = server.accept();
          int n = accepted.getAndIncrement();
          sockets.add(client);
          Socket upstream = new Socket(host, port);
          sockets.add(upstream);
          upstreamPorts.put(n, upstream.getLocalPort());
          ProxyPump.join(client, upstream, "freezing-proxy-pump", () -> whileFrozen(n));
        } catch (IOException e) {
          if (closed) return;
        }
      }
    }, "freezing-proxy-accept");
    accept.setDaemon(true);
    accept.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** How many connections clients opened through the proxy so far, frozen or not (it accepts while frozen). */
  public int connections() {
    return accepted.get();
  }

  /** Stops forwarding, both ways, on every connection (and on new ones), closing nothing. */
  public void freeze() {
    synchronized (lock) {
      frozen = true;
    }
  }

  /** Stops forwarding, both ways, on the {@code n}-th connection accepted (from 0) only. */
  public void freeze(int n) {
    synchronized (lock) {
      frozenOnes.add(n);
    }
  }

  /**
   * Stops forwarding, both ways, on every connection open now, and lets new ones through: a firewall
   * or load balancer that lost its state drops the flows it had (their packets vanish, no reset),
   * while new connections work; or a server that gave up on its sessions during a partition, whose
   * clients never hear of it. Until {@link #thaw()}.
   */
  public void freezeOpen() {
    synchronized (lock) {
      for (int n = 0; n < accepted.get(); n++) frozenOnes.add(n);
    }
  }

  /**
   * Stops forwarding, both ways, on the connections open now whose upstream end is one of
   * {@code clientPorts} (as the server sees them: {@code client_port} in {@code pg_stat_activity}),
   * the others and new ones flowing; until {@link #thaw()}. Returns how many it froze.
   */
  public int freezeOpen(java.util.Collection<Integer> clientPorts) {
    synchronized (lock) {
      int n = 0;
      for (var e : upstreamPorts.entrySet()) {
        if (clientPorts.contains(e.getValue()) && frozenOnes.add(e.getKey())) n++;
      }
      return n;
    }
  }

  /** Forwards again what was held and what comes next (on every connection). */
  public void thaw() {
    synchronized (lock) {
      frozen = false;
      frozenOnes.clear();
      lock.notifyAll();
    }
  }

  /** The pumps' gate: holds a pump, before its next read or write, for as long as the proxy is frozen. */
  private void whileFrozen(int n) throws IOException {
    synchronized (lock) {
      while ((frozen || frozenOnes.contains(n)) && !closed) {
        try {
          lock.wait(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted");
        }
      }
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    thaw();
    server.close();
    sockets.forEach(ProxyPump::close);
  }
}
