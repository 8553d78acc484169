package dev.sluice.bench;

import dev.sluice.pace.TokenBucket;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** The pacer's per-batch cost: one reservation (refill, take, wait time) on the token bucket. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TokenBucketBench {
  private TokenBucket bucket;

  @Setup
  public void setUp() {
    // A rate high enough that the bucket never runs dry: measures the bookkeeping, not waiting.
    bucket = new TokenBucket(1e12, 1e12, System::nanoTime);
  }

  @Benchmark
  public long reserve() {
    return bucket.reserve(5_000);
  }
}
