package dev.sluice.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.sluice.ledger.LeaseLostException;
import io.vertx.pgclient.PgException;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class ErrorClassifierTest {
  private static PgException pg(String state) {
    return new PgException("boom", "ERROR", state, "Failing row contains (7, x).");
  }

  @Test
  void transientSqlStates() {
    for (String s : new String[] {"08006", "08001", "40001", "40P01", "57P01", "57P03", "53300", "55P03", "57014"}) {
      assertEquals(ErrorClass.TRANSIENT, ErrorClassifier.classify(pg(s)), s);
    }
  }

  @Test
  void permanentSqlStates() {
    for (String s : new String[] {"22001", "22P02", "23514", "23502", "42P01", "42703"}) {
      assertEquals(ErrorClass.PERMANENT, ErrorClassifier.classify(pg(s)), s);
    }
  }

  @Test
  void causesAreFollowedAndLeaseLossIsFenced() {
    assertEquals(ErrorClass.TRANSIENT, ErrorClassifier.classify(new RuntimeException("wrapped", new IOException("reset"))));
    assertEquals(ErrorClass.TRANSIENT, ErrorClassifier.classify(new RuntimeException("x", pg("40P01"))));
    assertEquals(ErrorClass.FENCED, ErrorClassifier.classify(new LeaseLostException("j", 1, 2)));
    assertEquals(ErrorClass.PERMANENT, ErrorClassifier.classify(new IllegalArgumentException("bad")));
  }

  @Test
  void aStalledDatabaseIsTransientAConnectionLossAndDescribedByItsReasonAlone() {
    String why = "the source stalled: no answer for 60.4 s while reading rows of the COPY (sessions.stallTimeoutMs 60000);"
        + " its sessions were aborted";
    RuntimeException wrapped = new RuntimeException(why, new DatabaseStalled(why));
    assertEquals(ErrorClass.TRANSIENT, ErrorClassifier.classify(wrapped));
    assertEquals(true, ErrorClassifier.isConnectionLoss(wrapped), "the database's breaker counts it");
    assertEquals(why, ErrorClassifier.describe(wrapped));
  }

  @Test
  void aRetryableFailureIsTransientButNotAConnectionLoss() {
    RetryableFailure e = new RetryableFailure("the copy read 0 of 2000 planned rows");
    assertEquals(ErrorClass.TRANSIENT, ErrorClassifier.classify(new RuntimeException("wrapped", e)));
    assertFalse(ErrorClassifier.isConnectionLoss(e), "no circuit breaker counts it");
  }

  @Test
  void describeGivesStateMessageAndDetail() {
    assertEquals("23514 boom (Failing row contains (7, x).)", ErrorClassifier.describe(pg("23514")));
  }
}
