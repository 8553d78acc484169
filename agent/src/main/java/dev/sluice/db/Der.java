package dev.sluice.db;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Just enough DER to wrap the two traditional OpenSSL key forms into the PKCS#8 the JDK reads:
 * {@code PrivateKeyInfo ::= SEQUENCE { version 0, AlgorithmIdentifier, OCTET STRING key }}.
 */
final class Der {
  private static final byte[] RSA_ALGORITHM = hex("300d06092a864886f70d0101010500"); // rsaEncryption, NULL
  private static final byte[] EC_PUBLIC_KEY_OID = hex("06072a8648ce3d0201"); // id-ecPublicKey

  private Der() {}

  /** PKCS#1 {@code RSAPrivateKey} into PKCS#8. */
  static byte[] pkcs8Rsa(byte[] pkcs1) {
    return tlv(0x30, concat(hex("020100"), RSA_ALGORITHM, tlv(0x04, pkcs1)));
  }

  /**
   * SEC1 {@code ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [0] curve OID, [1] public key }}
   * into PKCS#8, with the curve taken from its {@code [0]}.
   */
  static byte[] pkcs8Ec(byte[] sec1) {
    int[] seq = header(sec1, 0);
    if (sec1[0] != 0x30) throw new IllegalArgumentException("not a SEC1 EC key");
    int pos = seq[0];
    int end = seq[0] + seq[1];
    byte[] curve = null;
    while (pos < end) {
      int[] h = header(sec1, pos);
      if ((sec1[pos] & 0xff) == 0xa0) curve = Arrays.copyOfRange(sec1, h[0], h[0] + h[1]);
      pos = h[0] + h[1];
    }
    if (curve == null) throw new IllegalArgumentException("the EC key does not name its curve");
    return tlv(0x30, concat(hex("020100"), tlv(0x30, concat(EC_PUBLIC_KEY_OID, curve)), tlv(0x04, sec1)));
  }

  /** {start of content, content length} of the element at {@code pos}. */
  private static int[] header(byte[] b, int pos) {
    int len = b[pos + 1] & 0xff;
    int start = pos + 2;
    if (len > 0x80) {
      int n = len - 0x80;
      len = 0;
      for (int i = 0; i < n; i++) len = (len << 8) | (b[start + i] & 0xff);
      start += n;
    }
    if (start + len > b.length) throw new IllegalArgumentException("truncated DER");
    return new int[] {start, len};
  }

  private static byte[] tlv(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else {
      int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
      out.write(0x80 + bytes);
      for (int i = bytes - 1; i >= 0; i--) out.write(n >>> (8 * i));
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) out.writeBytes(p);
    return out.toByteArray();
  }

  private static byte[] hex(String s) {
    byte[] out = new byte[s.length() / 2];
    for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
    return out;
  }
}
