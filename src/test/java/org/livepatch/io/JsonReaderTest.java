package org.livepatch.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The reader takes back what {@link Json} writes, and refuses what is not strict JSON. */
class JsonReaderTest {

    @Test
    void readsBackWhatJsonWrites() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "0001-a \"quoted\" \\ name\n\té\u0001 😀");
        m.put("n", 42);
        m.put("x", -1.5);
        m.put("list", List.of("a", List.of(), Map.of()));
        m.put("none", null);
        m.put("yes", true);
        Object back = JsonReader.read(Json.write(m));
        Map<?, ?> r = (Map<?, ?>) back;
        assertEquals(List.of("name", "n", "x", "list", "none", "yes"), List.copyOf(r.keySet()), "order kept");
        assertEquals(m.get("name"), r.get("name"));
        assertEquals(new BigDecimal("42"), r.get("n"));
        assertEquals(new BigDecimal("-1.5"), r.get("x"));
        assertEquals(Arrays.asList("a", List.of(), Map.of()), r.get("list"));
        assertTrue(r.containsKey("none") && r.get("none") == null);
        assertEquals(Boolean.TRUE, r.get("yes"));
        assertEquals(new BigDecimal("1E+3"), JsonReader.read(" 1e3 "));
        assertEquals("/\b\f\r", JsonReader.read("\"\\/\\b\\f\\r\""));
    }

    @Test
    void refusesWhatIsNotStrictJson() {
        for (String bad : List.of("", "{", "[1,]", "{\"a\":1,}", "{\"a\":1,\"a\":2}", "01", "1.", "-", "1e", ".5",
                "\"\\x\"", "\"\u0001\"", "\"abc", "tru", "nul", "[1] 2", "{a:1}", "'a'", "\"\\ud800\"", "\"\\u12\"",
                "[" .repeat(100) + "]".repeat(100), "NaN", "+1")) {
            JsonReader.Malformed e = assertThrows(JsonReader.Malformed.class, () -> JsonReader.read(bad), bad);
            assertTrue(e.getMessage().startsWith("JSON: ") && e.getMessage().contains("offset"), e.getMessage());
        }
    }
}
