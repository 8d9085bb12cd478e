package org.livepatch.verify;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Thousands of corrupted copies of Xen's real payloads (fixed seed): each one is either accepted
 * or refused with a typed reason; the verifier never trusts a size or offset enough to throw.
 */
@Tag("xen")
class PayloadFuzzTest {
    private static final long SEED = 0x4c6976655061L;
    private static final int ROUNDS = 6000;

    @Test
    void corruptedPayloadsAreAcceptedOrRefusedNeverThrown() throws Exception {
        List<String> names = List.of("xen_hello_world", "xen_bye_world", "xen_nop", "xen_expectations", "xen_action_hooks_nofunc", "xen_replace_world");
        PayloadFile hello = InTreePayloads.file("xen_hello_world");
        Random rnd = new Random(SEED);
        Map<RejectReason, Integer> reasons = new EnumMap<>(RejectReason.class);
        int accepted = 0;
        for (int round = 0; round < ROUNDS; round++) {
            String name = names.get(round % names.size());
            byte[] original = Files.readAllBytes(InTreePayloads.payload(name));
            byte[] bad = corrupt(original, rnd);
            PayloadFile f = PayloadFile.of(name, bad);
            // Bye is checked on top of hello, so cross-payload lookups are exercised too.
            List<PayloadFile> stack = name.equals("xen_bye_world") ? List.of(hello, f) : List.of(f);
            try {
                LoadCheck.Report r = LoadCheck.check(InTreePayloads.xen(), stack, LoadCheck.Options.defaults());
                PayloadOutcome o = r.outcomes().get(r.outcomes().size() - 1);
                if (o.accepted()) {
                    accepted++;
                    new ApplyPlan(r).toJson(true);
                } else {
                    assertNotNull(o.rejection().reason());
                    assertNotNull(o.rejection().errno());
                    reasons.merge(o.rejection().reason(), 1, Integer::sum);
                }
                PayloadOutcome offline = LoadCheck.inspect(f);
                if (offline.accepted()) {
                    PayloadInfo.toJson(List.of(offline));
                    DependencyGraph.of(InTreePayloads.xen().buildId().orElseThrow(), List.of(offline)).analyse(name);
                }
            } catch (RuntimeException e) {
                fail("round " + round + " (" + name + ", seed " + SEED + "): " + e, e);
            }
        }
        // The corruption is effective: many distinct refusals, and flips in unused bytes still load.
        assertTrue(reasons.size() >= 15, "only " + reasons.keySet());
        assertTrue(accepted > 0 && accepted < ROUNDS, "accepted " + accepted);
    }

    /** One of: random byte flips, a truncation, or a random value in a header or section-header field. */
    private static byte[] corrupt(byte[] in, Random rnd) {
        byte[] b = in.clone();
        switch (rnd.nextInt(5)) {
            case 0 -> {
                int n = 1 + rnd.nextInt(8);
                for (int i = 0; i < n; i++) {
                    b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> {
                return java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
            }
            case 2 -> {
                ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                int shoff = (int) bb.getLong(40);
                int shnum = bb.getShort(60) & 0xffff;
                int field = rnd.nextInt(8) * 8;
                int at = shoff + rnd.nextInt(Math.max(1, shnum)) * 64 + field;
                if (at + 8 <= b.length) {
                    bb.putLong(at, interesting(rnd));
                }
            }
            case 3 -> {
                ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                int at = 16 + rnd.nextInt(24) * 2;
                bb.putShort(at, (short) interesting(rnd));
            }
            default -> {
                // Overwrite 8 random bytes: hits relocation entries, symbols, notes and funcs.
                int at = rnd.nextInt(Math.max(1, b.length - 8));
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, interesting(rnd));
            }
        }
        return b;
    }

    private static long interesting(Random rnd) {
        return switch (rnd.nextInt(6)) {
            case 0 -> 0;
            case 1 -> -1L;
            case 2 -> rnd.nextInt(256);
            case 3 -> 1L << rnd.nextInt(64);
            case 4 -> Long.MAX_VALUE - rnd.nextInt(16);
            default -> rnd.nextLong();
        };
    }
}
