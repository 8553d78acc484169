package dev.sluice.config;

import io.vertx.pgclient.PgConnectOptions;

/** One PostgreSQL endpoint. The URL may hold a password; {@link #redacted()} never does. */
public record DatabaseConfig(String url, PgConnectOptions options, int poolSize) {

  public String redacted() {
    return "postgresql://" + options.getUser() + "@" + options.getHost() + ":" + options.getPort() + "/" + options.getDatabase();
  }

  public boolean sameDatabaseAs(DatabaseConfig other) {
    return options.getHost().equals(other.options.getHost())
        && options.getPort() == other.options.getPort()
        && options.getDatabase().equals(other.options.getDatabase());
  }

  @Override
  public String toString() {
    return redacted();
  }
}
