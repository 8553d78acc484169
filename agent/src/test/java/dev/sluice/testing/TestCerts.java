package dev.sluice.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made fresh for a test with {@code openssl}: a CA, a server certificate it signed for the
 * host name {@code localhost} only (so {@code 127.0.0.1} is a wrong host name under verify-full), a client
 * certificate for role {@code sluice_cert} with an EC key in OpenSSL's traditional SEC1 form, and a second,
 * unrelated CA (the wrong CA).
 */
public record TestCerts(Path dir, Path ca, Path serverCert, Path serverKey, Path clientCert, Path clientKey, Path otherCa) {

  public static TestCerts create() {
    try {
      Path d = Files.createTempDirectory("sluice-certs-");
      openssl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
          "-subj", "/CN=Sluice test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
      openssl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "2",
          "-subj", "/CN=Some other CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
      Files.writeString(d.resolve("server.ext"), "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
          + "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
      openssl(d, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
      openssl(d, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt",
          "-days", "2", "-extfile", "server.ext");
      Files.writeString(d.resolve("client.ext"), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n");
      openssl(d, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "client.key");
      openssl(d, "req", "-new", "-key", "client.key", "-out", "client.csr", "-subj", "/CN=sluice_cert");
      openssl(d, "x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt",
          "-days", "2", "-extfile", "client.ext");
      // PostgreSQL refuses a server key that others can read; libpq a client key.
      for (String k : List.of("server.key", "client.key", "ca.key", "other-ca.key")) {
        Files.setPosixFilePermissions(d.resolve(k), PosixFilePermissions.fromString("rw-------"));
      }
      return new TestCerts(d, d.resolve("ca.crt"), d.resolve("server.crt"), d.resolve("server.key"), d.resolve("client.crt"),
          d.resolve("client.key"), d.resolve("other-ca.crt"));
    } catch (IOException e) {
      throw new IllegalStateException("cannot make test certificates: " + e.getMessage(), e);
    }
  }

  /** Runs openssl in {@code dir}; its output goes to a log file there. */
  public static void openssl(Path dir, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Path log = dir.resolve("openssl.log");
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException(String.join(" ", cmd) + " failed: " + Files.readString(log));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
