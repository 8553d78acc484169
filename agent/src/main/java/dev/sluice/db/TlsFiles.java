package dev.sluice.db;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.DatabaseConfig.Tls;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The TLS material of one endpoint, loaded once from libpq's PEM files and shared by both clients, so
 * they accept the same files: {@code sslrootcert} (CA certificates, or {@code system} for the JDK's),
 * {@code sslcert} (a certificate chain) and {@code sslkey} (an unencrypted PKCS#8, PKCS#1 RSA or SEC1 EC
 * key, as {@code openssl} writes them). {@link #trust()} is null when the server is not to be checked
 * (sslmode allow, prefer, require without a root certificate), as libpq does.
 */
record TlsFiles(TrustManagerFactory trust, KeyManagerFactory keys, AtomicReference<String> refusal) {
  private static final Map<Tls, TlsFiles> loaded = new ConcurrentHashMap<>();
  private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END \\1-----");
  private static final char[] NO_PASSWORD = new char[0];

  /** Loads (once per distinct setting; blocking the first time) and caches. */
  static TlsFiles of(Tls tls) {
    return loaded.computeIfAbsent(tls, TlsFiles::load);
  }

  private static TlsFiles load(Tls tls) {
    try {
      TrustManagerFactory trust = null;
      if (tls.verifiesCa()) {
        trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        if (DatabaseConfig.SYSTEM_ROOTS.equals(tls.rootCert())) {
          trust.init((KeyStore) null);
        } else {
          KeyStore ks = emptyStore();
          int i = 0;
          for (Certificate c : named("sslrootcert", tls.rootCert(), () -> certificates(Path.of(tls.rootCert())))) {
            ks.setCertificateEntry("ca-" + i++, c);
          }
          if (i == 0) throw new IllegalArgumentException("sslrootcert " + tls.rootCert() + " holds no PEM certificate");
          trust.init(ks);
        }
      }
      KeyManagerFactory keys = null;
      if (tls.cert() != null && tls.key() != null) {
        List<Certificate> chain = named("sslcert", tls.cert(), () -> certificates(Path.of(tls.cert())));
        if (chain.isEmpty()) throw new IllegalArgumentException("sslcert " + tls.cert() + " holds no PEM certificate");
        KeyStore ks = emptyStore();
        ks.setKeyEntry("client", named("sslkey", tls.key(), () -> privateKey(Path.of(tls.key()))), NO_PASSWORD,
            chain.toArray(new Certificate[0]));
        keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(ks, NO_PASSWORD);
      }
      return new TlsFiles(trust, keys, new AtomicReference<>());
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot load the TLS files (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
    }
  }

  private interface FileRead<T> {
    T read() throws IOException, GeneralSecurityException;
  }

  /**
   * One TLS file read, a failure said with the setting and the file it names ("sslrootcert /etc/ca.pem:
   * no such file"), not the JDK's bare "NoSuchFileException" or "CertificateParsingException: signed
   * fields invalid" (a key given as the CA, say). An IllegalStateException: validate prints it as it is.
   */
  private static <T> T named(String setting, String file, FileRead<T> read) {
    try {
      return read.read();
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalStateException(setting + " " + file + ": no such file", e);
    } catch (java.nio.file.AccessDeniedException e) {
      throw new IllegalStateException(setting + " " + file + ": permission denied (the agent's user must be able to read it)", e);
    } catch (java.security.cert.CertificateException e) {
      throw new IllegalStateException(setting + " " + file + ": not a PEM certificate (" + e.getMessage() + ")", e);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(setting + " " + file + ": " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /** An SSL context for JDBC, equivalent to what the Vert.x side builds from the same material. */
  SSLContext sslContext() throws GeneralSecurityException {
    SSLContext ctx = SSLContext.getInstance("TLS");
    TrustManager[] tms = trust != null ? new TrustManager[] {checkingTrust()} : new TrustManager[] {TRUST_ANY};
    ctx.init(keys == null ? null : keys.getKeyManagers(), tms, null);
    return ctx;
  }

  /**
   * The trust manager that checks the server, remembering why it last refused one: Vert.x reports only
   * "SSL handshake failed", and an operator needs to know whether the CA or the host name was wrong.
   */
  X509ExtendedTrustManager checkingTrust() {
    X509ExtendedTrustManager jdk = null;
    for (TrustManager tm : trust.getTrustManagers()) if (tm instanceof X509ExtendedTrustManager x) jdk = x;
    if (jdk == null) throw new IllegalStateException("the JDK has no X509ExtendedTrustManager");
    return new RefusalRecorder(jdk, refusal);
  }

  /** Why the server's certificate was last refused (null: never), e.g. "No subject alternative DNS name matching db found". */
  String lastRefusal() {
    return refusal.get();
  }

  /** sslmode require/prefer/allow without a root certificate: encryption without checking the server, as in libpq. */
  private static final X509TrustManager TRUST_ANY = new X509TrustManager() {
    @Override
    public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

    @Override
    public java.security.cert.X509Certificate[] getAcceptedIssuers() {
      return new java.security.cert.X509Certificate[0];
    }
  };

  private static KeyStore emptyStore() throws GeneralSecurityException, IOException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    return ks;
  }

  static List<Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
    try (InputStream in = Files.newInputStream(file)) {
      Collection<? extends Certificate> all = CertificateFactory.getInstance("X.509").generateCertificates(in);
      return new ArrayList<>(all);
    }
  }

  static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    Matcher m = PEM.matcher(text);
    while (m.find()) {
      String kind = m.group(1);
      if (!kind.endsWith("PRIVATE KEY")) continue; // e.g. EC PARAMETERS before an EC key
      if (kind.startsWith("ENCRYPTED") || m.group(2).contains("ENCRYPTED")) {
        throw new IllegalArgumentException("sslkey " + file + " is encrypted; Sluice needs it unencrypted "
            + "(openssl pkey -in KEY -out PLAIN.key), protected by its file permissions");
      }
      byte[] der = Base64.getMimeDecoder().decode(m.group(2).replaceAll("(?m)^[A-Za-z-]+:.*$", "").trim());
      return switch (kind) {
        case "PRIVATE KEY" -> pkcs8(der);
        case "RSA PRIVATE KEY" -> KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Der.pkcs8Rsa(der)));
        case "EC PRIVATE KEY" -> KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Der.pkcs8Ec(der)));
        default -> throw new IllegalArgumentException("sslkey " + file + " holds a " + kind + ", which Sluice cannot read");
      };
    }
    throw new IllegalArgumentException("sslkey " + file + " holds no PEM private key");
  }

  private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
    for (String alg : new String[] {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException e) {
        // try the next algorithm
      }
    }
    throw new InvalidKeySpecException("not an RSA, EC or EdDSA key");
  }
}
