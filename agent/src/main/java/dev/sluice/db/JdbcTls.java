package dev.sluice.db;

import dev.sluice.config.DatabaseConfig.SslMode;
import dev.sluice.config.DatabaseConfig.Tls;
import java.security.GeneralSecurityException;
import java.util.Properties;
import org.postgresql.ssl.WrappedFactory;

/**
 * pgjdbc's {@code sslfactory} for Sluice's JDBC connections: the same PEM files and rules as the
 * Vert.x side ({@link TlsFiles}), instead of pgjdbc's own factory, which reads client keys only in DER or
 * PKCS#12. pgjdbc checks the server's host name itself under {@code sslmode=verify-full}.
 */
public final class JdbcTls extends WrappedFactory {
  /** Called by pgjdbc with the connection's properties ({@link ConnectionSettings#jdbcProperties()}). */
  public JdbcTls(Properties info) throws GeneralSecurityException {
    SslMode mode = SslMode.parse(info.getProperty("sslmode", "prefer"));
    Tls tls = new Tls(mode, info.getProperty("sslrootcert"), info.getProperty("sslcert"), info.getProperty("sslkey"));
    factory = TlsFiles.of(tls).sslContext().getSocketFactory();
  }
}
