package dev.sluice.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.net.URI;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * Keeps secrets out of everything Sluice shows or stores about its config: values of fields whose
 * name says token, password or secret become {@code "***"}, passwords inside connection URLs are cut
 * out, and an http(s) URL (a webhook's: a Slack webhook's path is its secret) is cut down to scheme,
 * host and port. Used for the config versions kept in the ledger and for reload messages (log lines,
 * the ledger's events, the last reload's outcome in {@code GET /api/config}).
 */
public final class Secrets {
  private Secrets() {}

  /** True for a field (or a dotted path ending in one) whose value is a secret. */
  public static boolean secretField(String path) {
    String last = path.substring(path.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
    if (last.endsWith("file")) return false; // passwordFile: where the secret is, not the secret
    return last.contains("token") || last.contains("password") || last.contains("secret") || last.contains("passwd");
  }

  /**
   * A URL without its password (user-info or a {@code password=} parameter). Also for URLs that do not
   * parse: everything from the first {@code :} after the scheme to the last {@code @} is masked, so a
   * password holding a raw {@code @}, {@code /} or {@code :} is hidden whole (a host or path may be masked
   * with it: too much hidden is safe, too little is not).
   */
  public static String url(String url) {
    String out = url;
    int scheme = url.indexOf("://");
    int at = url.lastIndexOf('@');
    if (scheme >= 0 && at > scheme) {
      int colon = url.indexOf(':', scheme + 3);
      if (colon >= 0 && colon < at) out = url.substring(0, colon + 1) + "***" + url.substring(at);
    }
    return out.replaceAll("(?i)(password=)[^&]*", "$1***");
  }

  /** {@code https://hooks.slack.com/services/T/B/x}: {@code https://hooks.slack.com/...}, scheme, host and port only. */
  public static String httpUrl(String url) {
    try {
      URI u = URI.create(url.strip());
      if (u.getScheme() == null || u.getHost() == null) return "(an invalid URL)";
      return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort()) + "/...";
    } catch (RuntimeException e) {
      return "(an invalid URL)";
    }
  }

  /**
   * A text value of the config at {@code key} as it may be shown: an http(s) URL cut down to its
   * origin (except {@code $schema}, a public address), any other URL without its password.
   */
  public static String text(String key, String value) {
    if (!value.contains("://")) return value;
    String lower = value.strip().toLowerCase(Locale.ROOT);
    boolean http = lower.startsWith("http://") || lower.startsWith("https://");
    if (http && !key.equals("$schema")) return httpUrl(value);
    return url(value);
  }

  /** A copy of a config tree with every secret masked. */
  public static JsonNode redact(JsonNode node) {
    JsonNode copy = node.deepCopy();
    mask(copy, "");
    return copy;
  }

  /** {@code key}: the field that holds {@code node} (array elements are held by the array's field). */
  private static void mask(JsonNode node, String key) {
    if (node instanceof ObjectNode o) {
      for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (secretField(e.getKey()) && !e.getValue().isNull()) {
          e.setValue(TextNode.valueOf("***"));
        } else if (e.getValue().isTextual()) {
          e.setValue(TextNode.valueOf(text(e.getKey(), e.getValue().asText())));
        } else {
          mask(e.getValue(), e.getKey());
        }
      }
    } else if (node instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        if (a.get(i).isTextual()) a.set(i, TextNode.valueOf(text(key, a.get(i).asText())));
        else mask(a.get(i), key);
      }
    }
  }
}
