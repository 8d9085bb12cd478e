package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What {@code --debian} adds to the reference's cache key: the stock build-id it must reproduce,
 * Debian's make arguments and the variables its rules export. Without them (every other build)
 * the key is what it was, so existing cache entries stay valid.
 */
class ReferenceKeyReproductionTest {
    private static final XenConfig CONFIG = new XenConfig(Path.of(".config"), "CONFIG_LIVEPATCH=y\n".getBytes(),
            Map.of("CONFIG_LIVEPATCH", "y"));
    private static final Toolchain TOOLS = new Toolchain(Path.of("/usr/bin/gcc"), Path.of("/usr/bin/ld"), Path.of("/usr/bin/make"),
            "gcc (Debian 12.2.0-14+deb12u1) 12.2.0", "GNU ld (GNU Binutils for Debian) 2.40");
    private static final ReproductionTarget STOCK = new ReproductionTarget(new BuildId("39a640e6f1412319235087391df9f1c5e13ae920"),
            Path.of("xen-syms"), "stock", Map.of());

    private static ReferenceKey key(List<String> args, Map<String, String> env, ReproductionTarget target) {
        return ReferenceKey.of("ab", CONFIG, TOOLS, BuildStrings.DEFAULT, args, env, target);
    }

    @Test
    void withoutReproductionTheKeyIsTheOldOne() {
        ReferenceKey old = ReferenceKey.of("ab", CONFIG, TOOLS, BuildStrings.DEFAULT, List.of(), Map.of("PATH", "/usr/bin"));
        assertEquals(old, key(List.of(), Map.of("PATH", "/usr/bin"), null));
        assertFalse(old.inputs().containsKey("reproduce.build-id"));
    }

    @Test
    void theStockBuildIdDebiansArgumentsAndVariablesAreInputs() {
        ReferenceKey plain = key(List.of(), Map.of(), null);
        ReferenceKey proof = key(List.of(), Map.of(), STOCK);
        assertNotEquals(plain.hex(), proof.hex());
        assertEquals("39a640e6f1412319235087391df9f1c5e13ae920", proof.inputs().get("reproduce.build-id"));
        assertNotEquals(proof.hex(), key(List.of("CC=x86_64-linux-gnu-gcc"), Map.of(), STOCK).hex());
        for (String v : List.of("DEB_VERSION", "DEB_MAINTAINER", "SOURCE_DATE_EPOCH")) {
            ReferenceKey with = key(List.of(), Map.of(v, "x"), STOCK);
            assertNotEquals(proof.hex(), with.hex(), v);
            assertEquals("x", with.inputs().get("env." + v), v);
        }
    }
}
