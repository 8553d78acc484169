package dev.sluice.config;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads {@code notify}: {@code webhooks[]} ({@code url}, {@code events}, {@code tokenFrom}: {@code env:VAR}
 * or {@code file:/path}) and {@code heldMinutes}. A token written into the config itself is refused
 * (configs are shared and committed; the token is read from the environment or a file instead).
 * URLs are shown in problems as scheme, host and port only: a Slack webhook's path is its secret.
 */
final class NotifySections {
  private NotifySections() {}

  static NotifyConfig notify(ConfigNode n) {
    long held = n.integer("heldMinutes", NotifyConfig.DEFAULT_HELD_MINUTES, 1, 10_080);
    List<NotifyConfig.Webhook> hooks = new ArrayList<>();
    for (ConfigNode w : n.objects("webhooks", false)) {
      NotifyConfig.Webhook h = webhook(w);
      if (h != null) hooks.add(h);
    }
    n.rejectUnknown();
    return new NotifyConfig(hooks, Duration.ofMinutes(held));
  }

  private static NotifyConfig.Webhook webhook(ConfigNode w) {
    String url = w.string("url", null, true);
    Set<String> events = new LinkedHashSet<>();
    List<String> listed = w.strings("events", false);
    for (int i = 0; i < listed.size(); i++) {
      String e = listed.get(i);
      if (!NotifyConfig.EVENTS.contains(e)) w.problem("events[" + i + "]", "unknown event \"" + e + "\" (one of " + String.join(", ", NotifyConfig.EVENTS) + ")");
      else events.add(e);
    }
    String from = w.string("tokenFrom", null, false);
    String env = null;
    String file = null;
    if (w.has("token")) {
      w.string("token", null, false); // read (so not "unknown"), never kept nor shown
      w.problem("token", "a token is never written in the config: name where it is with tokenFrom (\"env:VAR\" or \"file:/path\")");
    }
    if (from != null) {
      if (from.startsWith("env:") && from.substring(4).matches("[A-Za-z_][A-Za-z0-9_]*")) env = from.substring(4);
      else if (from.startsWith("file:") && !from.substring(5).isBlank()) file = from.substring(5);
      else w.problem("tokenFrom", "must be \"env:VAR\" (an environment variable's name) or \"file:/path\"");
    }
    w.rejectUnknown();
    if (url == null) return null;
    if (!validUrl(url)) {
      w.problem("url", "must be an http:// or https:// URL with a host (got " + shown(url) + ")");
      return null;
    }
    return new NotifyConfig.Webhook(url, events, env, file);
  }

  private static boolean validUrl(String url) {
    try {
      URI u = new URI(url);
      return (u.getScheme() != null && (u.getScheme().equals("http") || u.getScheme().equals("https"))) && u.getHost() != null;
    } catch (Exception e) {
      return false;
    }
  }

  /** A URL as problems may show it: scheme, host and port, never the path or query. */
  static String shown(String url) {
    try {
      URI u = new URI(url);
      if (u.getHost() == null) return "a URL without a host";
      return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort()) + "/…";
    } catch (Exception e) {
      return "a malformed URL";
    }
  }
}
