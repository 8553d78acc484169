package dev.sluice.verify;

import io.vertx.pgclient.PgException;

/** Recognises data drift in errors: a value the target type cannot hold fails with SQLSTATE class 22. */
public final class DataDrift {
  private DataDrift() {}

  public static boolean isDataException(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof PgException pg && pg.getSqlState() != null && pg.getSqlState().startsWith("22")) return true;
    }
    return false;
  }
}
