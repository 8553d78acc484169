package dev.sluice.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.Main;
import dev.sluice.testing.TestPg;
import dev.sluice.testing.TlsPg;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice validate} says how each side's session travels, as the server saw it: encrypted or not,
 * with which TLS version, and who was checked. Before, nothing told a person that the default
 * {@code sslmode=prefer} ran without TLS against a server that offers none, or unverified.
 */
class ValidateTransportTest {
  @TempDir
  Path dir;

  private static String validate(Path cfg) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "validate", "--config", cfg.toString());
    assertEquals(Main.OK, exit, out + "\n" + err);
    return out.toString();
  }

  private static String job() {
    return "\"jobs\": [{\"name\": \"items\", \"source\": {\"table\": \"public.items\", \"key\": [\"id\"]},"
        + " \"target\": {\"table\": \"public.items\", \"create\": true}, \"capture\": {\"enabled\": false}}]}";
  }

  @Test
  void validateSaysWhetherEachSideIsEncryptedAndChecked() throws Exception {
    TlsPg tls = TlsPg.get();
    String src = tls.createDatabase("vt_src");
    String tgt = tls.createDatabase("vt_tgt");
    tls.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    String side = "\"url\": \"postgresql://sluice_cert@localhost:%d/%s\", \"sslMode\": \"%s\", \"sslRootCert\": \"%s\", "
        + "\"sslCert\": \"%s\", \"sslKey\": \"%s\"";
    Path cfg = Files.writeString(dir.resolve("tls.json"), "{\"source\": {" + side.formatted(tls.port(), src, "verify-full", tls.certs.ca(),
        tls.certs.clientCert(), tls.certs.clientKey()) + "}, \"target\": {" + side.formatted(tls.port(), tgt, "verify-ca", tls.certs.ca(),
        tls.certs.clientCert(), tls.certs.clientKey()) + "}, \"http\": {\"enabled\": false}, " + job());
    String out = validate(cfg);
    assertTrue(out.matches("(?s).*\n  source: TLS \\(TLSv1\\.[23]\\), the server's certificate and host name checked \\(sslmode verify-full\\)\n.*"), out);
    assertTrue(out.matches("(?s).*\n  target: TLS \\(TLSv1\\.[23]\\), the server's certificate checked, not its host name \\(sslmode verify-ca\\)\n.*"), out);

    // The default sslmode against a server with no TLS: said, not silent.
    TestPg pg = TestPg.get();
    String psrc = pg.createDatabase("vt_plain_src");
    pg.exec(psrc, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    Path plain = Files.writeString(dir.resolve("plain.json"), "{\"source\": {\"url\": \"%s\"}, \"target\": {\"url\": \"%s\"}, \"http\": {\"enabled\": false}, "
        .formatted(pg.url(psrc), pg.url(pg.createDatabase("vt_plain_tgt"))) + job());
    assertTrue(validate(plain).contains("\n  source: not encrypted (sslmode prefer: the server offered no TLS)\n"), validate(plain));
  }
}
