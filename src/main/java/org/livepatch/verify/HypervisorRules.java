package org.livepatch.verify;

import java.util.List;
import java.util.Optional;
import org.livepatch.elf.Bytes;
import org.livepatch.xen.HypervisorVersion;
import org.livepatch.xen.XenSymbolTable;
import org.livepatch.xen.XenSymsException;

/**
 * What one x86_64 Xen release accepts as a live-patch payload: the single, versioned description
 * that the loader reads, in full for {@code livepatch-verify} ({@link LoadCheck#check}) and
 * upload-only for the assembler and {@code prelink} ({@link LoadCheck#beforeWriting}, through
 * {@code link/HypervisorLimits}).
 *
 * <p>The limits every modelled release shares are constants here; what differs between releases
 * is one record per release ({@link #XEN_4_17}, {@link #XEN_4_20}, {@link #XEN_4_22}) whose
 * components name the difference, so no stage tests a version number itself. Each component says
 * which Xen source makes it so; they were found by comparing the 4.17.5, 4.20.4 and 4.22.0 sources
 * function by function (4.17.5 here is the stable-4.17 branch, which already carries the
 * read-only {@code .livepatch.funcs}, {@code _pad[39]}, and the rejection of relocations against
 * symbols in unloaded sections: those are not differences between the modelled releases).
 *
 * @param name               "4.17", as users name the release (and {@code --xen-version} takes it)
 * @param xenBuildIdFirst    {@code .livepatch.xen_depends} is parsed and compared with the
 *                           hypervisor's build-id right after the ELF structure, before layout,
 *                           symbols and relocations, and read from the uploaded file rather than
 *                           the loaded image, so it need not be SHF_ALLOC
 *                           (4.20: xen/common/livepatch.c {@code check_xen_buildid}, called from
 *                           {@code load_payload_data}); before, it was parsed in
 *                           {@code prepare_payload} and compared in {@code xen_build_id_dep} after it
 * @param buildIdErrnoPassedOn a {@code .note.gnu.build-id} or {@code .livepatch.depends} note of
 *                           the wrong type or name fails with {@code xen_build_id_check}'s own
 *                           ENODATA (4.20: {@code parse_buildid} returns its rc); before,
 *                           {@code prepare_payload} turned every failure into EINVAL
 * @param alternativesChecked an {@code .altinstructions} entry whose replacement is longer than
 *                           its site, or whose site exceeds the patch buffer, fails the upload with
 *                           ENOSPC (4.20: xen/arch/x86/alternative.c {@code _apply_alternatives}
 *                           returns an error that {@code prepare_payload} passes on); before, the
 *                           same test was a {@code BUG_ON} that stops the host; the same goes for
 *                           an entry whose CPU feature is outside the hypervisor's capability words
 *                           (4.20: -ERANGE, before: {@code BUG_ON(feat >= NCAPINTS * 32)})
 * @param capabilityWords    NCAPINTS of this release's build (xen/arch/x86/include/asm/cpufeatures.h:
 *                           the {@code FEATURESET_NR_ENTRIES} words generated from the public
 *                           cpufeatureset.h, plus the synthetic and bug words): an alternative's
 *                           feature number must be below {@code 32 * NCAPINTS}. Only the fallback
 *                           when the given xen-syms does not tell ({@link CpuFeatureWords#of})
 * @param altCallSites       {@code .alt_call_sites} is read: entries of 4 bytes, each naming a
 *                           6-byte {@code call *disp32(%rip)} inside the payload's text
 *                           (4.21: xen/common/livepatch.c {@code prepare_payload},
 *                           xen/arch/x86/alternative.c {@code apply_alt_calls}); before, the
 *                           section was loaded as plain data and never looked at
 * @param sysctlInterface    XEN_SYSCTL_INTERFACE_VERSION (xen/include/public/sysctl.h): the
 *                           {@code xen-livepatch} that talks to this hypervisor must speak it
 */
public record HypervisorRules(String name, boolean xenBuildIdFirst, boolean buildIdErrnoPassedOn, boolean alternativesChecked,
                              int capabilityWords, boolean altCallSites, int sysctlInterface) {

    /** LIVEPATCH_MAX_SIZE (xen/include/xen/livepatch.h): the largest upload, and the largest writable NOBITS section. */
    public static final long MAX_PAYLOAD_SIZE = 2L << 20;
    /** XEN_LIVEPATCH_NAME_SIZE (xen/include/public/sysctl.h) is 128 including the NUL {@code get_name} requires. */
    public static final int MAX_NAME_LENGTH = 127;
    /** KSYM_NAME_LEN: build_symbol_table keeps this many bytes of a name, NUL included. */
    public static final int KSYM_NAME_LEN = 127;
    /** livepatch_header_check's "arbitrary boundary limit": e_shnum must be below it. */
    public static final int MAX_SECTIONS = 1024;
    /** ARCH_PATCH_INSN_SIZE (xen/arch/x86/include/asm/livepatch.h): the 5-byte {@code jmp rel32}. */
    public static final int PATCH_INSN_SIZE = 5;
    /** LIVEPATCH_OPAQUE_SIZE: the most bytes a NOP patch may cover. */
    public static final int OPAQUE_SIZE = 31;
    /** ENDBR64 is 4 bytes; Xen keeps it and writes the jump after it (xen/arch/x86/livepatch.c). */
    public static final int ENDBR64_LEN = 4;
    /** livepatch_verify_distance: new code must be within a signed 32-bit displacement of the old. */
    public static final long LIVEPATCH_RANGE = 1L << 31;
    /** sizeof(struct alt_instr) on x86 (xen/arch/x86/include/asm/alternative.h). */
    public static final int ALT_INSTR_SIZE = 14;
    /** ALT_FLAG_NOT (xen/arch/x86/include/asm/alternative.h): the top bit of alt_instr.cpuid inverts the feature test. */
    public static final int ALT_FLAG_NOT = 1 << 15;
    /** MAX_PATCH_LEN (xen/arch/x86/alternative.c): the buffer one alternative site is built in. */
    public static final int MAX_ALT_PATCH_LEN = 255 - 1;
    /** sizeof(struct alt_call) (xen/arch/x86/include/asm/alternative-call.h, 4.21+): one rel32 to the call site. */
    public static final int ALT_CALL_SIZE = 4;
    /** ALT_CALL_LEN: the {@code call *disp32(%rip)} an alt_call entry names. */
    public static final int ALT_CALL_LEN = 6;
    /** sizeof(struct bug_frame) on x86. */
    public static final int BUG_FRAME_SIZE = 8;
    /** sizeof(struct exception_table_entry) on x86. */
    public static final int EX_TABLE_ENTRY_SIZE = 8;

    // capabilityWords: FEATURESET_NR_ENTRIES is 19 in the generated cpuid-autogen.h of all three
    // built trees; 4.17.5 and 4.20.4 add one synthetic and one bug word (X86_NR_SYNTH,
    // X86_NR_BUG = 1), 4.22.0 computes them from its last feature: 33 synthetic features make two
    // words, 22 bug identifiers one. The size of cleared_caps[NCAPINTS] in each xen-syms agrees
    // (84, 84 and 88 bytes).

    /** Xen 4.17 (security support to December 2027); also what every earlier release is checked with. */
    public static final HypervisorRules XEN_4_17 = new HypervisorRules("4.17", false, false, false, 21, false, 0x15);
    /** Xen 4.20 (Debian 13): build-id checked first, alternatives fail softly, build-id errno passed on. */
    public static final HypervisorRules XEN_4_20 = new HypervisorRules("4.20", true, true, true, 21, false, 0x15);
    /** Xen 4.22: 4.20's rules plus {@code .alt_call_sites} (from 4.21), a second synthetic feature word and sysctl interface 0x16. */
    public static final HypervisorRules XEN_4_22 = new HypervisorRules("4.22", true, true, true, 22, true, 0x16);

    /**
     * Whether this release makes the check behind {@code reason} itself. When it does not, the
     * loader still refuses the payload (the release would crash or misbehave with it) and the
     * refusal says so ({@link Rejection#beyondXen()}): the checks marked
     * {@link RejectReason#beyondXen()}, which no modelled release makes, and the alternative
     * checks that were a {@code BUG_ON} before 4.20.
     */
    public boolean checksItself(RejectReason reason) {
        return switch (reason) {
            case ALTERNATIVE_TOO_LONG, ALTERNATIVE_FEATURE_OUT_OF_RANGE -> alternativesChecked;
            default -> !reason.beyondXen();
        };
    }

    /** Every modelled release, oldest first. */
    public static List<HypervisorRules> known() {
        return List.of(XEN_4_17, XEN_4_20, XEN_4_22);
    }

    /**
     * The model a check uses and, when it is not an exact match for the hypervisor, the sentence
     * that says so (printed once by the CLI, carried in its JSON).
     */
    public record Choice(HypervisorRules rules, Optional<String> notice) {
        public static Choice exact(HypervisorRules rules) {
            return new Choice(rules, Optional.empty());
        }
    }

    /**
     * The rules for a hypervisor version: the release itself when it is modelled; otherwise the
     * modelled release whose rules it has: 4.18 and 4.19 are checked as 4.17, 4.21 as 4.22 (its
     * {@code .alt_call_sites} and sysctl interface 0x16 arrived in 4.21; no 4.21 source was
     * compared), a release after 4.22 as 4.22, and a release before 4.17 as 4.17, which is what
     * the verifier did for every hypervisor before releases were modelled. The notice names the choice.
     */
    public static Choice forVersion(HypervisorVersion v) {
        HypervisorRules chosen = XEN_4_17;
        if (v.major() > 4 || v.major() == 4 && v.minor() >= 21) {
            chosen = XEN_4_22;
        } else if (v.major() == 4 && v.minor() == 20) {
            chosen = XEN_4_20;
        }
        if (compare(v.major(), v.minor(), chosen) == 0) {
            return Choice.exact(chosen);
        }
        String why = compare(v.major(), v.minor(), XEN_4_17) < 0 ? "is older than the oldest modelled release"
                : compare(v.major(), v.minor(), XEN_4_22) > 0 ? "is newer than the newest modelled release" : "is not modelled itself";
        return new Choice(chosen, Optional.of("Xen " + v.major() + "." + v.minor() + " " + why + "; checking with the Xen " + chosen.name() + " rules"));
    }

    /** The rules for the hypervisor of {@code xen}; a version that cannot be read from its code gives the 4.17 rules, with a notice. */
    public static Choice forHypervisor(XenSymbolTable xen) {
        try {
            return forVersion(xen.version());
        } catch (XenSymsException e) {
            return new Choice(XEN_4_17, Optional.of(e.getMessage() + "; checking with the Xen 4.17 rules"));
        }
    }

    /** The release named as on the command line ({@code 4.20}, also {@code 4.20.4}); empty if it is not modelled. */
    public static Optional<HypervisorRules> named(String release) {
        String s = release.strip();
        for (HypervisorRules r : known()) {
            if (s.equals(r.name()) || s.startsWith(r.name() + ".")) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /** The names {@link #named} takes, for messages: "4.17, 4.20, 4.22". */
    public static String knownNames() {
        return String.join(", ", known().stream().map(HypervisorRules::name).toList());
    }

    private static int compare(int major, int minor, HypervisorRules r) {
        String[] p = r.name().split("\\.");
        int c = Integer.compare(major, Integer.parseInt(p[0]));
        return c != 0 ? c : Integer.compare(minor, Integer.parseInt(p[1]));
    }

    /**
     * ENDBR64 ({@code f3 0f 1e fa}) or the {@code nopw (%rcx)} ({@code 66 0f 1f 01}) Xen poisons
     * unused ones with at boot (xen/arch/x86/include/asm/endbr.h): either way the hypervisor
     * writes its jump 4 bytes in and needs {@code 5 + 4} bytes of old function
     * ({@code arch_livepatch_verify_func}). False for fewer than 4 bytes.
     */
    public static boolean startsWithEndbr64(Bytes b) {
        if (b == null || b.length() < ENDBR64_LEN) {
            return false;
        }
        return (b.u8(0) == 0xf3 && b.u8(1) == 0x0f && b.u8(2) == 0x1e && b.u8(3) == 0xfa)
                || (b.u8(0) == 0x66 && b.u8(1) == 0x0f && b.u8(2) == 0x1f && b.u8(3) == 0x01);
    }

    @Override
    public String toString() {
        return "Xen " + name;
    }
}
