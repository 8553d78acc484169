package dev.sluice.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Keeps three things in step: what {@link ConfigLoader} accepts, {@code config/sluice.schema.json},
 * and {@code config/example-full.json} (which sets every field). A field added to the loader must be
 * added to both files (and to docs/config.md), or this test fails.
 */
class ConfigSchemaTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path CONFIG_DIR = Path.of(System.getProperty("user.dir")).resolve("../config").normalize();
  private static final Map<String, String> ENV = Map.of("PGPASSWORD", "pw", "SLUICE_TOKEN", "0123456789abcdef0123", "SLUICE_READ_TOKEN", "fedcba9876543210fedc");

  @AfterEach
  void restoreEnv() {
    Env.override(null);
  }

  private static JsonNode read(String file) throws IOException {
    return JSON.readTree(Files.readString(CONFIG_DIR.resolve(file)));
  }

  /** Follows a local {@code $ref} ({@code #/$defs/name}). */
  private static JsonNode resolve(JsonNode schema, JsonNode root) {
    while (schema.has("$ref")) {
      String ref = schema.get("$ref").asText();
      assertTrue(ref.startsWith("#/"), "only local refs: " + ref);
      schema = root.at(ref.substring(1));
      assertTrue(!schema.isMissingNode(), "dangling $ref " + ref);
    }
    return schema;
  }

  /**
   * Walks the example and the schema together: every field of the example must be in the schema and
   * every property of the schema must be set in the example. Collects each strict object's path and
   * its schema property names.
   */
  private static void walk(JsonNode schema, JsonNode root, JsonNode value, String path, List<String> mismatches,
      Map<String, TreeSet<String>> objects) {
    schema = resolve(schema, root);
    if (schema.has("properties")) {
      assertEquals(false, schema.path("additionalProperties").asBoolean(true), path + ": strict objects need additionalProperties false");
      assertTrue(value.isObject(), path + " must be an object in the example");
      TreeSet<String> names = new TreeSet<>();
      schema.get("properties").fieldNames().forEachRemaining(names::add);
      objects.put(path, names);
      // A field must be set somewhere its object's schema applies: source and target share one schema, and
      // alternatives (password, passwordFile) are each set on one of them.
      TreeSet<String> unset = UNSET.computeIfAbsent(schema, k -> new TreeSet<>(names));
      value.fieldNames().forEachRemaining(unset::remove);
      SCHEMA_PATHS.putIfAbsent(schema, path);
      for (Iterator<String> it = value.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (!names.contains(f)) {
          mismatches.add("in example-full.json but not in the schema: " + join(path, f));
        } else {
          walk(schema.get("properties").get(f), root, value.get(f), join(path, f), mismatches, objects);
        }
      }
    } else if (schema.has("items") && value.isArray()) {
      assertTrue(value.size() > 0, path + " must have an element in the example");
      for (int i = 0; i < value.size(); i++) walk(schema.get("items"), root, value.get(i), path + "[" + i + "]", mismatches, objects);
    }
  }

  /** Per object schema (by identity): its properties not yet seen set in the example, and the first path it applied at. */
  private static final Map<JsonNode, TreeSet<String>> UNSET = new java.util.IdentityHashMap<>();
  private static final Map<JsonNode, String> SCHEMA_PATHS = new java.util.IdentityHashMap<>();

  private static void walkAll(JsonNode schema, JsonNode full, List<String> mismatches, Map<String, TreeSet<String>> objects) {
    UNSET.clear();
    SCHEMA_PATHS.clear();
    walk(schema, schema, full, "", mismatches, objects);
    UNSET.forEach((s, unset) -> unset.forEach(n -> mismatches.add("in the schema but not set in example-full.json: " + join(SCHEMA_PATHS.get(s), n))));
  }

  private static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  @Test
  void schemaExampleAndLoaderAcceptTheSameFields() throws IOException {
    JsonNode schema = read("sluice.schema.json");
    assertEquals("https://json-schema.org/draft/2020-12/schema", schema.get("$schema").asText());
    JsonNode full = read("example-full.json");
    List<String> mismatches = new ArrayList<>();
    Map<String, TreeSet<String>> objects = new java.util.LinkedHashMap<>();
    walkAll(schema, full, mismatches, objects);
    assertEquals(List.of(), mismatches);

    // The loader accepts the full example...
    Env.override(ENV);
    assertNotNull(ConfigLoader.parse(full.toString()));
    // ...and for every object, the fields it knows are exactly the schema's: an unknown field is
    // refused with the list of the fields the loader read there.
    for (Map.Entry<String, TreeSet<String>> o : objects.entrySet()) {
      ObjectNode copy = full.deepCopy();
      JsonNode at = o.getKey().isEmpty() ? copy : copy.at(pointer(o.getKey()));
      ((ObjectNode) at).put("zz_not_a_field", 1);
      ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(copy.toString()), o.getKey());
      String path = join(o.getKey(), "zz_not_a_field");
      Optional<ConfigProblem> p = e.problems().stream().filter(x -> x.path().equals(path)).findFirst();
      assertTrue(p.isPresent(), "no problem reported at " + path + ": " + e.problems());
      String msg = p.get().message();
      String known = msg.substring(msg.indexOf("known fields here: ") + "known fields here: ".length(), msg.lastIndexOf(')'));
      assertEquals(o.getValue(), new TreeSet<>(List.of(known.split(", "))), "fields the loader reads at " + (o.getKey().isEmpty() ? "the top" : o.getKey()));
    }
  }

  /** A docs section headed by an object's name (`http`, `jobs[].pace`), or "Top level" for the root. */
  private static boolean heads(String section, String parent) {
    String heading = section.lines().findFirst().orElse("");
    return parent.isEmpty() ? heading.contains("Top level") : heading.contains(parent + "`");
  }

  private static String pointer(String path) {
    return "/" + path.replace(".", "/").replaceAll("\\[(\\d+)]", "/$1");
  }

  @Test
  void examplesLoadAndTheSchemaStatesTheLoadersDefaults() throws IOException {
    Env.override(ENV);
    SluiceConfig c = ConfigLoader.parse(Files.readString(CONFIG_DIR.resolve("example.json")));
    assertEquals("orders", c.jobs().get(0).name());
    JsonNode schema = read("sluice.schema.json");
    JsonNode job = schema.at("/$defs/job/properties");
    assertEquals(JobConfig.DEFAULT_SEGMENT_ROWS, job.at("/segment/properties/rows/default").asLong());
    assertEquals(JobConfig.DEFAULT_BATCH_ROWS, job.at("/batch/properties/rows/default").asInt());
    assertEquals(JobConfig.DEFAULT_CONCURRENCY_MAX, job.at("/concurrency/properties/max/default").asInt());
    assertEquals(JobConfig.Retry.DEFAULT_MAX_ATTEMPTS, job.at("/retry/properties/maxAttempts/default").asInt());
    assertEquals(JobConfig.Retry.DEFAULT_BASE_DELAY_MS, job.at("/retry/properties/baseDelayMs/default").asLong());
    assertEquals(JobConfig.Retry.DEFAULT_MAX_DELAY_MS, job.at("/retry/properties/maxDelayMs/default").asLong());
    assertEquals(DatabaseConfig.DEFAULT_POOL_SIZE, schema.at("/$defs/database/properties/poolSize/default").asInt());
    assertEquals(HttpConfig.DEFAULT_HOST, schema.at("/properties/http/properties/host/default").asText());
    assertEquals(HttpConfig.DEFAULT_PORT, schema.at("/properties/http/properties/port/default").asInt());
    assertEquals(AgentConfig.DEFAULT_LEASE_SECONDS, schema.at("/properties/agent/properties/leaseSeconds/default").asLong());
    assertEquals(AgentConfig.DEFAULT_HEARTBEAT_SECONDS, schema.at("/properties/agent/properties/heartbeatSeconds/default").asLong());
    JsonNode fg = schema.at("/properties/health/properties/foreground/properties");
    assertEquals(ForegroundConfig.DEFAULT_INTERVAL_MS, fg.at("/intervalMs/default").asLong());
    assertEquals(ForegroundConfig.DEFAULT_QUIET_MS, fg.at("/quietMs/default").asLong());
    assertEquals(ForegroundConfig.DEFAULT_PROBE_TOLERANCE, fg.at("/probeTolerance/default").asDouble());
    assertEquals(ForegroundConfig.DEFAULT_MIN_RATE_FACTOR, fg.at("/minRateFactor/default").asDouble());
    assertEquals(ForegroundConfig.DEFAULT_START_RATE_FACTOR, fg.at("/startRateFactor/default").asDouble());
    assertEquals(ForegroundConfig.DEFAULT_THROTTLE_RATIO, fg.at("/throttleRatio/default").asDouble());
    // docs/config.md documents every field of the schema.
    String docs = Files.readString(CONFIG_DIR.resolve("../docs/config.md"));
    Map<String, TreeSet<String>> objects = new java.util.LinkedHashMap<>();
    walkAll(schema, read("example-full.json"), new ArrayList<>(), objects);
    assertTrue(objects.size() > 10, objects.keySet().toString());
    // Every field has a table row: either its dotted path from its job or the top (`| `pace.burstRows` |`,
    // `| `health.probe.sql` |`), or its bare name in a section headed by its object (`## `jobs[].pace``).
    List<String> undocumented = new ArrayList<>();
    List<String> sections = List.of(docs.split("\\n##+ "));
    objects.forEach((path, fields) -> {
      String object = path.replaceAll("\\[\\d+]", "[]");
      String parent = object.isEmpty() ? "" : object.substring(object.lastIndexOf('.') + 1);
      for (String f : fields) {
        String full = object.isEmpty() ? f : object + "." + f;
        boolean documented = false;
        for (String q = full; !documented; q = q.substring(q.indexOf('.') + 1)) {
          documented = q.equals(f) ? sections.stream().anyMatch(x -> heads(x, parent) && x.contains("| `" + f + "` |"))
              : docs.contains("| `" + q + "` |");
          if (q.equals(f)) break;
        }
        if (!documented) undocumented.add(full);
      }
    });
    assertEquals(List.of(), undocumented, "fields missing from docs/config.md");
  }
}
