package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BearerAuthTest {
  @Test
  void acceptsOnlyTheConfiguredToken() {
    BearerAuth auth = new BearerAuth("s3cret-token-0123456789");
    assertTrue(auth.accepts("Bearer s3cret-token-0123456789"));
    assertTrue(auth.accepts("bearer s3cret-token-0123456789"));
    assertFalse(auth.accepts("Bearer s3cret-token-012345678"));
    assertFalse(auth.accepts("s3cret-token-0123456789"));
    assertFalse(auth.accepts(null));
    assertFalse(auth.accepts("Bearer "));
  }

  @Test
  void noTokenMeansControlIsOff() {
    BearerAuth off = new BearerAuth(null);
    assertFalse(off.enabled());
    assertFalse(off.accepts("Bearer "));
    assertFalse(off.accepts("Bearer null"));
  }
}
