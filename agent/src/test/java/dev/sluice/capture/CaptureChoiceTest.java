package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.Env;
import dev.sluice.config.JobConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Which capture a job gets: the recorded mode wins, then the config, auto deciding by what the source allows. */
class CaptureChoiceTest {
  private static final LogicalCapability.Verdict YES = new LogicalCapability.Verdict(List.of(), false);
  private static final LogicalCapability.Verdict NO = new LogicalCapability.Verdict(
      List.of(new LogicalCapability.Problem("wal_level is replica", "set wal_level = logical on the source and restart it")), false);

  @AfterEach
  void restoreEnv() {
    Env.override(null);
  }

  @Test
  void autoTakesTheLogWhenTheSourceAllowsItElseTheTrigger() {
    CaptureChoice yes = CaptureChoice.resolve(JobConfig.CaptureMode.AUTO, null, YES);
    assertEquals(CaptureChoice.Mode.LOGICAL, yes.mode());
    assertFalse(yes.refused());
    CaptureChoice no = CaptureChoice.resolve(JobConfig.CaptureMode.AUTO, null, NO);
    assertEquals(CaptureChoice.Mode.TRIGGER, no.mode());
    assertFalse(no.refused());
    assertEquals("trigger (capture.mode is auto and logical capture is not possible: wal_level is replica: set wal_level = logical "
        + "on the source and restart it)", no.describe());
  }

  @Test
  void logicalTheSourceCannotGiveIsRefusedWithWhatToChange() {
    CaptureChoice c = CaptureChoice.resolve(JobConfig.CaptureMode.LOGICAL, null, NO);
    assertTrue(c.refused());
    assertTrue(c.refusal().contains("set wal_level = logical") && c.refusal().contains("capture.mode to trigger or auto"), c.refusal());
    assertFalse(CaptureChoice.resolve(JobConfig.CaptureMode.LOGICAL, null, YES).refused());
    assertEquals(CaptureChoice.Mode.TRIGGER, CaptureChoice.resolve(JobConfig.CaptureMode.TRIGGER, null, null).mode());
  }

  @Test
  void aStartedJobKeepsItsRecordedMode() {
    assertEquals(CaptureChoice.Mode.TRIGGER, CaptureChoice.resolve(JobConfig.CaptureMode.LOGICAL, "trigger", YES).mode());
    assertEquals(CaptureChoice.Mode.LOGICAL, CaptureChoice.resolve(JobConfig.CaptureMode.TRIGGER, "logical", null).mode());
    CaptureChoice gone = CaptureChoice.resolve(JobConfig.CaptureMode.AUTO, "logical", NO);
    assertEquals(CaptureChoice.Mode.LOGICAL, gone.mode());
    assertTrue(gone.refused(), "a logical job whose source no longer allows it is not silently switched to the trigger");
  }

  private static String config(String capture) {
    return """
        {"source": {"url": "postgresql://u@localhost/a"}, "target": {"url": "postgresql://u@localhost/b"},
         "jobs": [{"name": "t", "source": {"table": "t", "key": ["id"]}, "target": {"table": "t"}%s}]}"""
        .formatted(capture == null ? "" : ", \"capture\": " + capture);
  }

  @Test
  void theConfigSaysTheModeAndTheSlotLimits() {
    Env.override(Map.of());
    JobConfig.Capture dflt = ConfigLoader.parse(config(null)).jobs().get(0).capture();
    assertEquals(JobConfig.CaptureMode.AUTO, dflt.mode());
    assertEquals(new JobConfig.SlotLimits(1024, 4096, 16384), dflt.slot());
    JobConfig.Capture set = ConfigLoader.parse(config("{\"mode\": \"logical\", \"slotThrottleMb\": 10, \"slotPauseMb\": 20, "
        + "\"slotDropMb\": 30}")).jobs().get(0).capture();
    assertEquals(JobConfig.CaptureMode.LOGICAL, set.mode());
    assertEquals(new JobConfig.SlotLimits(10, 20, 30), set.slot());
    assertProblem(() -> ConfigLoader.parse(config("{\"mode\": \"wal\"}")), "jobs[0].capture.mode", "must be one of [auto, trigger, logical]");
    assertProblem(() -> ConfigLoader.parse(config("{\"slotPauseMb\": 5, \"slotDropMb\": 4}")), "jobs[0].capture.slotDropMb",
        "must be at least slotPauseMb");

    // The installation's default: SLUICE_CAPTURE_MODE; the config's own mode still wins.
    Env.override(Map.of("SLUICE_CAPTURE_MODE", "trigger"));
    assertEquals(JobConfig.CaptureMode.TRIGGER, ConfigLoader.parse(config(null)).jobs().get(0).capture().mode());
    assertEquals(JobConfig.CaptureMode.AUTO, ConfigLoader.parse(config("{\"mode\": \"auto\"}")).jobs().get(0).capture().mode());
    Env.override(Map.of("SLUICE_CAPTURE_MODE", "sometimes"));
    assertProblem(() -> ConfigLoader.parse(config(null)), "jobs[0].capture.mode", "SLUICE_CAPTURE_MODE must be one of");
  }

  private static void assertProblem(Executable parse, String path, String text) {
    try {
      parse.execute();
    } catch (ConfigException e) {
      assertTrue(e.problems().stream().anyMatch(p -> p.path().equals(path) && p.message().contains(text)), e.problems().toString());
      return;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
    throw new AssertionError("no problem reported for " + path);
  }
}
