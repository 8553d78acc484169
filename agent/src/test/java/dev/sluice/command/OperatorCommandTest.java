package dev.sluice.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** The one set of rules every operator command passes, whichever way it came. */
class OperatorCommandTest {
  private static OperatorCommand parse(String action, String args) {
    return OperatorCommand.parse(action, args == null ? null : new JsonObject(args));
  }

  private static String refused(String action, String args) {
    return assertThrows(OperatorCommand.Invalid.class, () -> parse(action, args)).getMessage();
  }

  @Test
  void aPauseReasonIsOptionalTrimmedAndBounded() {
    assertNull(((OperatorCommand.Pause) parse("pause", null)).reason());
    assertNull(((OperatorCommand.Pause) parse("pause", "{\"reason\": \"   \"}")).reason(), "blank counts as none");
    assertEquals("busy hour", ((OperatorCommand.Pause) parse("pause", "{\"reason\": \"  busy hour \"}")).reason());
    assertEquals("reason must be a string", refused("pause", "{\"reason\": 5}"));
    assertEquals("reason must be at most 500 characters", refused("abort", "{\"reason\": \"" + "x".repeat(501) + "\"}"));
    assertEquals("x".repeat(500), ((OperatorCommand.Abort) parse("abort", "{\"reason\": \"" + "x".repeat(500) + "\"}")).reason());
  }

  @Test
  void aPaceIsAboveZeroOrNullForUnpacedAndNeverMissing() {
    assertEquals(2500.0, ((OperatorCommand.Pace) parse("pace", "{\"rowsPerSecond\": 2500}")).rowsPerSecond());
    assertEquals(0.5, ((OperatorCommand.Pace) parse("pace", "{\"rowsPerSecond\": 0.5}")).rowsPerSecond());
    assertNull(((OperatorCommand.Pace) parse("pace", "{\"rowsPerSecond\": null}")).rowsPerSecond(), "null: unpaced");
    assertTrue(refused("pace", "{\"rowsPerSecond\": 0}").contains("to stop the job, pause it"), "0 is not unpaced");
    for (String bad : new String[] {"-5", "\"fast\"", "1e10", "true"}) {
      assertTrue(refused("pace", "{\"rowsPerSecond\": " + bad + "}").startsWith("rowsPerSecond must be a number above 0"), bad);
    }
    assertTrue(refused("pace", "{}").startsWith("send {\"rowsPerSecond\": N}"), "a missing rate is not unpaced");
  }

  @Test
  void aRetriedSegmentIsAWholeNumber() {
    assertNull(((OperatorCommand.Retry) parse("retry", "{}")).segment(), "none: every failed segment");
    assertEquals(12, ((OperatorCommand.Retry) parse("retry", "{\"segment\": 12}")).segment());
    assertEquals(12, ((OperatorCommand.Retry) parse("retry", "{\"segment\": 12.0}")).segment(), "12.0 is the whole number 12");
    for (String bad : new String[] {"1.5", "-1", "\"2\"", "2147483648"}) {
      assertTrue(refused("retry", "{\"segment\": " + bad + "}").startsWith("segment must be a whole number"), bad);
    }
  }

  @Test
  void aRollbackTakesForceAndADeletePace() {
    assertEquals(new OperatorCommand.Rollback(false, null), parse("rollback", null));
    assertEquals(new OperatorCommand.Rollback(true, 100.0), parse("rollback", "{\"force\": true, \"rowsPerSecond\": 100}"));
    assertEquals("force must be true or false", refused("rollback", "{\"force\": \"yes\"}"));
    assertTrue(refused("rollback", "{\"rowsPerSecond\": 0}").startsWith("rowsPerSecond (the delete pace)"));
  }

  @Test
  void unknownOrMissingActionsAreRefusedNamingTheKnownOnes() {
    assertTrue(refused(null, null).startsWith("missing \"action\""));
    assertEquals("unknown action \"frobnicate\" (known: " + OperatorCommand.ACTIONS + ")", refused("frobnicate", null));
    assertEquals(new OperatorCommand.Resume(), parse("resume", "{\"reason\": 5}"), "arguments a command does not take are ignored");
    assertEquals(new OperatorCommand.Complete(), parse("complete", null));
  }

  @Test
  void noStringOrFieldNameHoldsANul() {
    assertEquals("strings must not contain NUL (\\u0000)", refused("pause", "{\"reason\": \"a\\u0000b\"}"));
    assertEquals("strings must not contain NUL (\\u0000)", refused("resume", "{\"a\\u0000\": 1}"), "field names too, whatever the action");
    assertEquals("strings must not contain NUL (\\u0000)", refused("pace", "{\"x\": [\"\\u0000\"], \"rowsPerSecond\": 5}"));
  }

  @Test
  void theAuditedArgumentsAreTheValidatedOnes() {
    assertEquals(new JsonObject().put("reason", "busy hour"), parse("pause", "{\"reason\": \" busy hour \", \"token\": \"x\"}").args());
    assertEquals(new JsonObject().put("segment", 3), parse("retry", "{\"segment\": 3.0}").args());
  }
}
