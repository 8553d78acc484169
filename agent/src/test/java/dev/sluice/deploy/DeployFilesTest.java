package dev.sluice.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.Env;
import dev.sluice.config.SluiceConfig;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The files in deploy/ are checked by the tools that will read them: the alert rules by
 * {@code promtool check rules} and their unit tests by {@code promtool test rules}, the systemd unit by
 * {@code systemd-analyze verify}; the Kubernetes manifests and the Grafana dashboard are parsed and
 * checked for what no schema sees: the sidecar's wiring (native sidecar, probes on real paths, the
 * config loads, its password files are where the Secret is mounted). Without promtool or systemd-analyze
 * their checks are skipped and say so; with {@code CI=true} they fail instead ({@code .ci/run} installs both).
 */
class DeployFilesTest {
  private static final Path ROOT = Path.of(System.getProperty("user.dir")).resolve("..").normalize();
  private static final Path DEPLOY = ROOT.resolve("deploy");
  private static final ObjectMapper JSON = new ObjectMapper();

  @AfterEach
  void restoreEnv() {
    Env.override(null);
  }

  private static boolean tool(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      if (new File(dir, name).canExecute()) return true;
    }
    if ("true".equals(System.getenv("CI"))) fail(name + " is not installed; CI requires this check (.ci/run installs it)");
    System.out.println("SKIPPED: " + name + " is not installed");
    return false;
  }

  private static String run(Path dir, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd) + " finished");
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + out);
    System.out.println(String.join(" ", cmd) + ": " + out.strip());
    return out;
  }

  @Test
  void alertRulesPassPromtoolAndTheirUnitTests() throws Exception {
    if (!tool("promtool")) return;
    Path dir = DEPLOY.resolve("prometheus");
    assertTrue(run(dir, "promtool", "check", "rules", "sluice-alerts.yml").contains("SUCCESS"));
    assertTrue(run(dir, "promtool", "test", "rules", "sluice-alerts.test.yml").contains("SUCCESS"));
  }

  @Test
  void theSystemdUnitVerifies() throws Exception {
    if (!tool("systemd-analyze")) return;
    String out = run(DEPLOY.resolve("systemd"), "systemd-analyze", "verify", "sluice.service");
    assertFalse(out.toLowerCase().contains("unknown"), out);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> yaml(String file) throws Exception {
    return (Map<String, Object>) new Yaml(new LoaderOptions()).load(Files.readString(DEPLOY.resolve("kubernetes").resolve(file)));
  }

  @SuppressWarnings("unchecked")
  private static <T> T at(Object node, String... path) {
    Object n = node;
    for (String p : path) {
      assertNotNull(n, "missing " + String.join(".", path));
      n = p.matches("\\d+") ? ((List<Object>) n).get(Integer.parseInt(p)) : ((Map<String, Object>) n).get(p);
    }
    return (T) n;
  }

  @Test
  @SuppressWarnings("unchecked")
  void theKubernetesSidecarIsWiredTogether() throws Exception {
    Map<String, Object> deployment = yaml("deployment.yaml");
    Map<String, Object> pod = at(deployment, "spec", "template", "spec");
    Map<String, Object> sidecar = at(pod, "initContainers", "0");
    assertEquals("sluice", sidecar.get("name"));
    assertEquals("Always", sidecar.get("restartPolicy"), "a native sidecar is an init container with restartPolicy Always");
    for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
      String path = at(sidecar, probe, "httpGet", "path");
      assertTrue(path.equals("/health/live") || path.equals("/health/ready"), probe + " on " + path);
      assertEquals("sluice-http", at(sidecar, probe, "httpGet", "port"));
    }
    assertEquals("sluice-http", at(sidecar, "ports", "0", "name"));
    assertEquals(Boolean.TRUE, at(sidecar, "securityContext", "readOnlyRootFilesystem"));

    // Every mount has its volume; the config comes from the ConfigMap as a directory (no subPath: updates arrive).
    List<Map<String, Object>> volumes = at(pod, "volumes");
    List<Map<String, Object>> mounts = at(sidecar, "volumeMounts");
    for (Map<String, Object> m : mounts) {
      assertFalse(m.containsKey("subPath"), "a subPath mount never sees ConfigMap or Secret updates: " + m);
      assertTrue(volumes.stream().anyMatch(v -> v.get("name").equals(m.get("name"))), "no volume for " + m);
    }
    Map<String, Object> configMap = yaml("configmap.yaml");
    String configMount = mounts.stream().filter(m -> m.get("name").equals("sluice-config")).findFirst().orElseThrow().get("mountPath").toString();
    List<String> args = at(sidecar, "args");
    assertEquals(configMount + "/sluice.json", args.get(args.indexOf("--config") + 1));
    String secretMount = mounts.stream().filter(m -> m.get("name").equals("sluice-secrets")).findFirst().orElseThrow().get("mountPath").toString();
    Map<String, Object> secretVolume = volumes.stream().filter(v -> v.get("name").equals("sluice-secrets")).findFirst().orElseThrow();
    List<Map<String, Object>> items = at(secretVolume, "secret", "items");
    Map<String, Object> secret = yaml("secret.yaml");
    Map<String, Object> secretData = at(secret, "stringData");

    // The config loads, and its password files are files of the mounted Secret.
    Env.override(Map.of());
    SluiceConfig config = ConfigLoader.parse(at(configMap, "data", "sluice.json"));
    for (var db : List.of(config.source(), config.target())) {
      Path file = db.passwordFile();
      assertNotNull(file, "passwords come from files");
      assertEquals(Path.of(secretMount), file.getParent());
      String key = items.stream().filter(i -> i.get("path").equals(file.getFileName().toString())).findFirst()
          .orElseThrow(() -> new AssertionError("no Secret item for " + file)).get("key").toString();
      assertTrue(secretData.containsKey(key), "the Secret has " + key);
      assertEquals("0.0.0.0", config.http().host(), "probes and Prometheus reach the pod's address");
    }
    assertEquals("verify-full", config.source().tls().mode().text());
    // The tokens come from the Secret too.
    List<Map<String, Object>> env = at(sidecar, "env");
    for (String var : List.of("SLUICE_TOKEN", "SLUICE_READ_TOKEN")) {
      Map<String, Object> e = env.stream().filter(x -> x.get("name").equals(var)).findFirst().orElseThrow();
      assertTrue(secretData.containsKey(at(e, "valueFrom", "secretKeyRef", "key")), var);
    }

    // Prometheus finds the Service, and the Service the sidecar's port.
    Map<String, Object> service = yaml("service.yaml");
    Map<String, Object> monitor = yaml("servicemonitor.yaml");
    Map<String, Object> wanted = at(monitor, "spec", "selector", "matchLabels");
    Map<String, Object> labels = at(service, "metadata", "labels");
    wanted.forEach((k, v) -> assertEquals(v, labels.get(k), "ServiceMonitor selects the Service by " + k));
    assertEquals("sluice-http", at(service, "spec", "ports", "0", "targetPort"));
    assertEquals((Object) at(monitor, "spec", "endpoints", "0", "port"), at(service, "spec", "ports", "0", "name"));
    assertEquals("/metrics", at(monitor, "spec", "endpoints", "0", "path"));
    // Prometheus Operator names the scrape job after the Service's label named by jobLabel, else after
    // the Service: SluiceAgentDown (up{job="..."}) must select the job the kit produces, or it never fires.
    String jobLabel = at(monitor, "spec", "jobLabel");
    String serviceName = at(service, "metadata", "name");
    String scrapeJob = jobLabel != null && labels.containsKey(jobLabel) ? labels.get(jobLabel).toString() : serviceName;
    Matcher up = Pattern.compile("up\\{job=\"([^\"]+)\"}")
        .matcher(Files.readString(DEPLOY.resolve("prometheus/sluice-alerts.yml")));
    assertTrue(up.find(), "SluiceAgentDown selects up{job=...}");
    assertEquals(up.group(1), scrapeJob, "the job label of the Kubernetes kit's scrapes is the one the alert rules select");
    Map<String, Object> kustomization = yaml("kustomization.yaml");
    for (Object r : (List<Object>) kustomization.get("resources")) {
      assertTrue(Files.exists(DEPLOY.resolve("kubernetes").resolve(r.toString())), "kustomization lists " + r);
    }
  }

  @Test
  void theGrafanaDashboardParsesAndEveryPanelHasAQuery() throws Exception {
    JsonNode d = JSON.readTree(Files.readString(DEPLOY.resolve("grafana/sluice-dashboard.json")));
    assertEquals("sluice", d.get("uid").asText());
    List<String> empty = new ArrayList<>();
    int queries = 0;
    for (JsonNode p : d.get("panels")) {
      if (p.get("type").asText().equals("row")) continue;
      if (!p.has("targets") || p.get("targets").isEmpty()) empty.add(p.get("title").asText());
      for (JsonNode t : p.path("targets")) {
        assertFalse(t.path("expr").asText().isBlank(), p.get("title").asText());
        queries++;
      }
    }
    assertEquals(List.of(), empty, "panels without a query");
    assertTrue(queries >= 15, "queries: " + queries);
  }
}
