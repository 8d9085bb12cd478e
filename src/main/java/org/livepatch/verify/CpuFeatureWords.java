package org.livepatch.verify;

import java.util.List;
import org.livepatch.xen.XenSymbol;
import org.livepatch.xen.XenSymbolTable;

/**
 * How many 32-bit capability words (NCAPINTS) the hypervisor has, which bounds the CPU feature an
 * {@code .altinstructions} entry may name: {@code _apply_alternatives} (xen/arch/x86/alternative.c)
 * refuses a feature at or above {@code 32 * NCAPINTS} (4.20+: -ERANGE; before: a BUG_ON).
 *
 * <p>NCAPINTS is fixed when Xen is built: its feature words are generated from the public
 * cpufeatureset.h, its synthetic and bug words counted in asm/cpufeatures.h, and a distributor's
 * backport can add a word. So it is read from the xen-syms given when that can be done reliably,
 * and only otherwise taken from the release's record ({@link HypervisorRules#capabilityWords}).
 * xen-syms carries it as the size of two arrays of exactly NCAPINTS words that every modelled
 * release defines in xen/arch/x86/cpu/common.c ({@code cleared_caps[NCAPINTS]} and
 * {@code forced_caps[NCAPINTS]}); both must be present once, agree and be whole words, or the
 * record is used.
 *
 * @param words  NCAPINTS
 * @param source where it came from, for the verifier's output ("cleared_caps and forced_caps in xen-syms")
 */
public record CpuFeatureWords(int words, String source) {
    /** The arrays of NCAPINTS words whose st_size gives NCAPINTS. */
    static final List<String> ARRAYS = List.of("cleared_caps", "forced_caps");
    /** More words than any plausible build: a size beyond this is not an NCAPINTS array. */
    private static final int MAX_WORDS = 256;

    /** The first feature number the hypervisor refuses: {@code 32 * NCAPINTS}. */
    public int limit() {
        return words * 32;
    }

    /** NCAPINTS of {@code xen} when its symbols tell, else of the release {@code rules} (also when {@code xen} is null). */
    public static CpuFeatureWords of(XenSymbolTable xen, HypervisorRules rules) {
        long size = -1;
        if (xen != null) {
            for (String n : ARRAYS) {
                List<XenSymbol> found = xen.named(n);
                long s = found.size() == 1 ? found.get(0).size() : -1;
                if (s <= 0 || s % 4 != 0 || s / 4 > MAX_WORDS || size != -1 && s != size) {
                    size = -1;
                    break;
                }
                size = s;
            }
        }
        if (size > 0) {
            return new CpuFeatureWords((int) (size / 4), String.join(" and ", ARRAYS) + " in xen-syms");
        }
        return new CpuFeatureWords(rules.capabilityWords(), "the Xen " + rules.name() + " release"
                + (xen == null ? "" : " (xen-syms has no single " + String.join("/", ARRAYS) + " of whole words)"));
    }

    /** "NCAPINTS 21 (features below 0x2a0), from cleared_caps and forced_caps in xen-syms". */
    public String describe() {
        return "NCAPINTS " + words + " (features below 0x" + Integer.toHexString(limit()) + "), from " + source;
    }
}
