package dev.sluice.cache;

import java.nio.charset.StandardCharsets;

/**
 * A key's read cohort, 0-99: which share of keys it belongs to when reads move to the target. It must
 * be the same on every agent, after every restart and in every client that wants to predict it, so it
 * is a fixed function of the key's canonical text (see {@link KeyCodec}) and nothing else:
 *
 * <pre>
 *   h = FNV-1a 64 over the UTF-8 bytes of the canonical key text
 *       (offset basis 0xcbf29ce484222325, prime 0x100000001b3)
 *   h = fmix64(h)   (MurmurHash3's finaliser: xor-shift 33, * 0xff51afd7ed558ccd, xor-shift 33,
 *                    * 0xc4ceb9fe1a85ec53, xor-shift 33)
 *   cohort = h mod 100, h read as an unsigned 64-bit number
 * </pre>
 *
 * The finaliser spreads sequential keys ("1", "2", ...) evenly over the cohorts.
 */
public final class Cohort {
  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private Cohort() {}

  public static int of(String canonicalKey) {
    long h = FNV_OFFSET;
    for (byte b : canonicalKey.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= FNV_PRIME;
    }
    return (int) Long.remainderUnsigned(fmix64(h), 100);
  }

  static long fmix64(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }
}
