package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.json.JsonArray;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeyCodecTest {
  @Test
  void pathPartsArePercentEncodedAndCommaSeparated() {
    KeyCodec two = new KeyCodec(List.of("text", "bigint"));
    assertEquals(List.of("a,b/c d%", "7"), two.fromPath("a%2Cb%2Fc%20d%25,7"));
    assertEquals(List.of("h\u00e9", "1"), two.fromPath("h%C3%A9,1"));
    List<String> odd = List.of("x,y", "\u00e9/%");
    assertEquals(odd, new KeyCodec(List.of("text", "text")).fromPath(KeyCodec.toPath(odd)));
    assertThrows(IllegalArgumentException.class, () -> two.fromPath("only-one"));
    assertThrows(IllegalArgumentException.class, () -> two.fromPath("a%2,1"));
    assertThrows(IllegalArgumentException.class, () -> two.fromPath("%FF,1"));
  }

  @Test
  void canonicalText() {
    KeyCodec one = new KeyCodec(List.of("bigint"));
    assertEquals(List.of("7"), one.canonicalHere(List.of("007")));
    assertEquals(List.of("-7"), one.canonicalHere(List.of("-7")));
    assertNull(one.canonicalHere(List.of(" 7")), "PostgreSQL decides what it accepts");
    assertNull(new KeyCodec(List.of("integer")).canonicalHere(List.of("3000000000")));
    assertNull(new KeyCodec(List.of("numeric(10,2)")).canonicalHere(List.of("1.5")));
    assertNull(new KeyCodec(List.of("uuid")).canonicalHere(List.of("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")));
    assertEquals("[\"eu\",\"7\"]", KeyCodec.text(List.of("eu", "7")));
    assertEquals("7", KeyCodec.text(List.of("7")));
  }

  @Test
  void jsonKeys() {
    KeyCodec two = new KeyCodec(List.of("text", "bigint"));
    assertEquals(List.of("eu", "7"), two.fromJson(new JsonArray().add("eu").add(7)));
    assertEquals(List.of("7"), new KeyCodec(List.of("bigint")).fromJson(7));
    assertThrows(IllegalArgumentException.class, () -> two.fromJson("eu"));
    assertThrows(IllegalArgumentException.class, () -> two.fromJson(new JsonArray().add("eu").addNull()));
  }

  @Test
  void lookupTypesDropModifiers() {
    assertEquals("character varying", KeyCodec.lookupType("character varying(10)"));
    assertEquals("numeric", KeyCodec.lookupType("numeric(10,2)"));
    assertEquals("bpchar", KeyCodec.lookupType("character(3)"));
    assertEquals("timestamp without time zone", KeyCodec.lookupType("timestamp(3) without time zone"));
    assertEquals("bigint", KeyCodec.lookupType("bigint"));
  }
}
