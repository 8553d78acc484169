package dev.sluice.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on a loopback port in front of a server, whose every new connection waits {@code delayMs}
 * before it reaches the server: a database whose sessions are slow to open (a loaded host), on demand.
 * Bytes then flow both ways unchanged.
 */
public final class SlowConnectProxy implements AutoCloseable {
  private final ServerSocket server;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  public SlowConnectProxy(String host, int port, long delayMs) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(() -> {
      while (!closed) {
        try {
          Socket client = server.accept();
          sockets.add(client);
          Thread t = new Thread(() -> connect(client, host, port, delayMs), "slow-proxy-connect");
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return; // closed
        }
      }
    }, "slow-proxy-accept");
    accept.setDaemon(true);
    accept.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  private void connect(Socket client, String host, int port, long delayMs) {
    try {
      Thread.sleep(delayMs);
      Socket upstream = new Socket(host, port);
      sockets.add(upstream);
      ProxyPump.join(client, upstream, "slow-proxy-pump", ProxyPump.OPEN);
    } catch (IOException | InterruptedException e) {
      ProxyPump.close(client);
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    sockets.forEach(ProxyPump::close);
  }
}
