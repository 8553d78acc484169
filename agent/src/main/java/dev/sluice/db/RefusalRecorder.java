package dev.sluice.db;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The JDK's trust manager (chain and, under verify-full, host name), noting and logging why it refused a server. */
final class RefusalRecorder extends X509ExtendedTrustManager {
  private static final Logger log = LoggerFactory.getLogger(RefusalRecorder.class);
  private final X509ExtendedTrustManager jdk;
  private final AtomicReference<String> last;

  RefusalRecorder(X509ExtendedTrustManager jdk, AtomicReference<String> last) {
    this.jdk = jdk;
    this.last = last;
  }

  private interface Check {
    void run() throws CertificateException;
  }

  private void checked(X509Certificate[] chain, Check check) throws CertificateException {
    try {
      check.run();
    } catch (CertificateException e) {
      String why = "the server's certificate (" + (chain.length > 0 ? chain[0].getSubjectX500Principal().getName() : "none")
          + ") was refused: " + e.getMessage();
      if (!why.equals(last.getAndSet(why))) log.warn("TLS: {}", why);
      throw e;
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    checked(chain, () -> jdk.checkServerTrusted(chain, authType, engine));
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    checked(chain, () -> jdk.checkServerTrusted(chain, authType, socket));
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    checked(chain, () -> jdk.checkServerTrusted(chain, authType));
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    jdk.checkClientTrusted(chain, authType, engine);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    jdk.checkClientTrusted(chain, authType, socket);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    jdk.checkClientTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return jdk.getAcceptedIssuers();
  }
}
