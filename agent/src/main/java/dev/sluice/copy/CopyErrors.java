package dev.sluice.copy;

import io.vertx.pgclient.PgException;
import java.sql.SQLException;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Errors of the JDBC driver in the form the rest of the agent reads: a server error becomes a
 * {@link PgException} with its SQLSTATE, message and detail (and, for a COPY, where in the stream it
 * failed), so the classifier, the data-drift check and the parked segment's error key see a COPY
 * path failure exactly as they see one of the other paths. A driver error without a server message
 * (a connection lost: SQLSTATE class 08) keeps its SQLSTATE the same way.
 */
final class CopyErrors {
  private CopyErrors() {}

  static Throwable translate(Throwable e) {
    if (e instanceof PgException) return e;
    if (e instanceof PSQLException p && p.getServerErrorMessage() != null) {
      ServerErrorMessage m = p.getServerErrorMessage();
      String detail = m.getDetail();
      if (m.getWhere() != null && m.getWhere().startsWith("COPY ")) detail = detail == null ? m.getWhere() : detail + "; " + m.getWhere();
      PgException pg = new PgException(m.getMessage(), m.getSeverity(), m.getSQLState(), detail);
      pg.addSuppressed(e); // PgException's cause is fixed at construction: the driver's error rides along for the log
      return pg;
    }
    if (e instanceof SQLException s && s.getSQLState() != null) {
      PgException pg = new PgException(s.getMessage(), "ERROR", s.getSQLState(), null);
      pg.addSuppressed(e);
      return pg;
    }
    return e;
  }
}
