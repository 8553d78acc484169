package dev.sluice.resilience;

import dev.sluice.ledger.LeaseLostException;
import io.vertx.pgclient.PgException;
import io.vertx.core.VertxException;
import java.io.IOException;
import java.util.concurrent.TimeoutException;

/**
 * Classifies errors by SQLSTATE (PostgreSQL Appendix A) and by exception type.
 *
 * <ul>
 *   <li>Transient: a {@link RetryableFailure} (found by Sluice, not raised by a database), a
 *       {@link DatabaseStalled} (a database that stopped answering, also a connection loss), class 08 (connection), 40001 serialization, 40P01 deadlock, 53xxx insufficient
 *       resources (53300 too many connections), 55P03 lock not available, 57014 query canceled
 *       (statement timeout), 57P01/57P02/57P03 shutdown and cannot-connect-now, 58xxx system errors,
 *       and any I/O or closed-connection error below SQL.
 *   <li>Permanent: everything else with a SQLSTATE: 22xxx data exceptions, 23xxx integrity
 *       violations, 42xxx syntax and access, and so on.
 * </ul>
 */
public final class ErrorClassifier {
  private ErrorClassifier() {}

  public static ErrorClass classify(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof LeaseLostException) return ErrorClass.FENCED;
      if (c instanceof RetryableFailure || c instanceof DatabaseStalled) return ErrorClass.TRANSIENT;
      if (c instanceof PgException pg && pg.getSqlState() != null) return bySqlState(pg.getSqlState());
    }
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof IOException || c instanceof TimeoutException) return ErrorClass.TRANSIENT;
      if (c instanceof VertxException) return ErrorClass.TRANSIENT; // closed connection, pool timeout
      String m = c.getMessage();
      if (m != null && (m.contains("closed") || m.contains("Connection refused") || m.contains("timeout"))) return ErrorClass.TRANSIENT;
    }
    return ErrorClass.PERMANENT;
  }

  public static ErrorClass bySqlState(String state) {
    if (state.startsWith("08") || state.startsWith("53") || state.startsWith("58")) return ErrorClass.TRANSIENT;
    return switch (state) {
      case "40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "25P03" -> ErrorClass.TRANSIENT;
      default -> ErrorClass.PERMANENT;
    };
  }

  /**
   * True when the error says the database could not be reached or went away (class 08, shutdown
   * 57P01-57P03, too many connections 53300, or an I/O error below SQL), as opposed to an error of
   * one statement. These feed the database's circuit breaker.
   */
  public static boolean isConnectionLoss(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof RetryableFailure) return false;
      if (c instanceof DatabaseStalled) return true;
      if (c instanceof PgException pg && pg.getSqlState() != null) {
        String s = pg.getSqlState();
        return s.startsWith("08") || s.equals("57P01") || s.equals("57P02") || s.equals("57P03") || s.equals("53300");
      }
    }
    return classify(t) == ErrorClass.TRANSIENT;
  }

  /**
   * The server's refusal of a session without TLS, with what it means: under sslmode prefer (the default)
   * vertx-pg-client's pools report only this answer to their retry without TLS, whatever made the attempt
   * over TLS fail (a wrong or missing password); a single connection says both (db.LoginFailures).
   */
  private static String tlsOnly(PgException pg) {
    String m = pg.getErrorMessage();
    if (!"28000".equals(pg.getSqlState()) || m == null || !m.startsWith("pg_hba.conf rejects connection")
        || !(m.endsWith("no encryption") || m.endsWith("SSL off"))) return "";
    return " (the server accepts this role over TLS only; under sslmode prefer this is its answer to the retry without TLS, "
        + "after the attempt over TLS failed for another reason, such as a wrong or missing password: `sluice validate` names it)";
  }

  /** A short description for the ledger and logs: SQLSTATE and message, no stack trace. */
  public static String describe(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof DatabaseStalled) return c.getMessage();
      if (c instanceof PgException pg) {
        String detail = pg.getDetail() == null ? "" : " (" + pg.getDetail() + ")";
        return pg.getSqlState() + " " + pg.getErrorMessage() + detail + tlsOnly(pg);
      }
    }
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
