package dev.sluice.db;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.impl.SocketConnectionBase;
import io.vertx.sqlclient.internal.SqlConnectionInternal;

/**
 * Closes a vertx-pg-client connection at once, whatever its server does. The client's own close
 * cannot end a connection to a database that stopped answering (a network partition, a frozen host):
 * it queues a Terminate behind the statement in flight (not sent while a Parse waits for its answer),
 * and its codec turns a close of the socket into a Terminate and a half-close, then waits for the
 * server to close its side; a statement in flight waits with it, for as long as the freeze lasts, or
 * for ever once the server gave up on the session. Here the socket is reset instead (SO_LINGER 0: a
 * RST, nothing left queued to be delivered later), under the codec: the statements in flight fail at
 * once ({@code ClosedConnectionException}) and a pool drops the connection.
 *
 * <p>This reaches into vertx-pg-client 5.0's internals ({@code SqlConnectionInternal.unwrap()}, its
 * {@code SocketConnectionBase}'s socket); {@link #channel} answers null when they are not the ones
 * known, and the callers then close the connection the ordinary way. {@code ApplierStallTest} and
 * {@code WatchedPoolTest} fail if a new version of the client changes them.
 */
public final class ConnectionReset {
  private ConnectionReset() {}

  /** The connection's socket (its physical one, under a pool's wrapper), or null when it cannot be reached. */
  public static Channel channel(SqlConnection conn) {
    if (!(conn instanceof SqlConnectionInternal c)) return null;
    Object physical = c.unwrap().unwrap();
    if (!(physical instanceof SocketConnectionBase s)) return null;
    ChannelHandlerContext ctx = s.socket().channelHandlerContext();
    return ctx == null ? null : ctx.channel();
  }

  /** Resets {@code channel} on its event loop: a RST, the socket closed now; returns at once. */
  public static void reset(Channel channel) {
    channel.eventLoop().execute(() -> {
      if (!channel.isOpen()) return;
      try {
        channel.config().setOption(ChannelOption.SO_LINGER, 0);
      } catch (RuntimeException e) {
        // an ordinary close then: the socket still closes now, with a FIN
      }
      // From the first handler's context the close goes to the socket alone: no handler above it (the codec) sees it.
      ChannelHandlerContext first = channel.pipeline().firstContext();
      if (first != null) first.close();
      else channel.close();
    });
  }

  /** Resets {@code conn}'s socket; closes it the ordinary way when the socket cannot be reached. */
  public static void reset(SqlConnection conn) {
    Channel ch = channel(conn);
    if (ch != null) reset(ch);
    else conn.close();
  }
}
