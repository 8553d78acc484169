package dev.sluice.testing;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.sluice.config.ConfigProblem;
import dev.sluice.config.SluiceConfig;
import dev.sluice.inspect.JobInspector;
import dev.sluice.inspect.JobShape;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;

/** The shape of a config's first job, inspected as validation does; fails the test with the problems when there is none. */
public final class Shapes {
  private Shapes() {}

  /** Blocks: call it off an event loop (or through {@link Async#blocking}). */
  public static JobShape first(SluiceConfig config, Pool source, Pool target) {
    List<ConfigProblem> problems = new ArrayList<>();
    JobShape shape = new JobInspector(source, target).inspect(config.jobs().get(0), "jobs[0]", problems);
    assertNotNull(shape, problems.toString());
    return shape;
  }
}
