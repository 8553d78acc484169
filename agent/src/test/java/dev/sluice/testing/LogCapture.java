package dev.sluice.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What a logger (the root, or one class's) logs while this is open: for tests that check what Sluice
 * says. Events arrive from any thread; {@link #events} hands out a copy.
 */
public final class LogCapture implements AutoCloseable {
  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogCapture(Logger logger) {
    this.logger = logger;
    appender.start();
    logger.addAppender(appender);
  }

  /** Everything logged. */
  public static LogCapture root() {
    return new LogCapture((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME));
  }

  /** What {@code type}'s logger logs. */
  public static LogCapture of(Class<?> type) {
    return new LogCapture((Logger) LoggerFactory.getLogger(type));
  }

  /** The events so far, in order (a copy). */
  public List<ILoggingEvent> events() {
    synchronized (appender) { // the appender appends under its own lock
      return List.copyOf(appender.list);
    }
  }

  /** The messages of the events at {@code level} or above that contain {@code text}. */
  public List<String> messages(Level level, String text) {
    return events().stream().filter(e -> e.getLevel().isGreaterOrEqual(level)).map(ILoggingEvent::getFormattedMessage)
        .filter(m -> m.contains(text)).toList();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}
