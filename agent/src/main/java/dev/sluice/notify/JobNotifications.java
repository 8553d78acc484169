package dev.sluice.notify;

import io.vertx.core.Future;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns jobs' figures and audit events into posted milestones: a {@link Milestones} per job spots
 * them, the {@link Claims} port (the ledger's {@code sluice.notifications}) lets exactly one agent
 * send each, and the {@link WebhookNotifier} queues the post. Nothing here waits on a receiver: a
 * tick costs one ledger insert per new milestone.
 */
public final class JobNotifications {
  private static final Logger log = LoggerFactory.getLogger(JobNotifications.class);

  /** Records that a milestone is being sent; true when this caller is the first. */
  public interface Claims {
    Future<Boolean> claim(String job, String key, String kind);
  }

  private final WebhookNotifier notifier;
  private final Claims claims;
  private final Clock clock;
  private final Duration heldAfter;
  private final Map<String, Milestones> jobs = new ConcurrentHashMap<>();

  public JobNotifications(WebhookNotifier notifier, Claims claims, Clock clock, Duration heldAfter) {
    this.notifier = notifier;
    this.claims = claims;
    this.clock = clock;
    this.heldAfter = heldAfter;
  }

  /** A job's figures, once a second. */
  public void tick(Milestones.JobView v) {
    Milestones m = jobs.computeIfAbsent(v.job(), j -> new Milestones(j, heldAfter));
    java.util.List<NotifyEvent> out;
    synchronized (m) {
      out = m.tick(clock.instant(), v);
    }
    out.forEach(this::send);
  }

  /** A new audit event of a job. */
  public void event(String job, Milestones.AuditEvent e) {
    Milestones m = jobs.computeIfAbsent(job, j -> new Milestones(j, heldAfter));
    NotifyEvent n;
    synchronized (m) {
      n = m.audit(clock.instant(), e);
    }
    if (n != null) send(n);
  }

  private void send(NotifyEvent e) {
    claims.claim(e.job(), e.key(), e.kind())
        .onSuccess(first -> {
          if (first) notifier.publish(e);
        })
        .onFailure(err -> log.warn("job {}: cannot record the {} milestone in the ledger; not sent: {}", e.job(), e.kind(), err.toString()));
  }
}
