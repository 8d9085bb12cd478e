package org.livepatch.verify;

import static org.livepatch.verify.Errno.*;

/**
 * Why the hypervisor refuses a payload: one constant per check Xen 4.17.5 makes on upload or on
 * apply, with the errno it returns and the function that makes the check, plus the checks later
 * releases added (their comment names the release; {@link HypervisorRules} says which release
 * makes which).
 *
 * <p>Constants marked {@link #beyondXen()} are checks no modelled release makes (4.17.5, 4.20.4
 * and 4.22.0 alike): there Xen would accept the payload and then crash or silently misbehave (a
 * NULL or out-of-payload dereference, a revert that leaves a jump to freed code). We reject those
 * too, with the errno that the nearest real check uses, and say so in the message. A check that
 * only some releases make is beyond the others ({@link HypervisorRules#checksItself}).
 */
public enum RejectReason {
    // A. Upload hypercall (xen/common/livepatch.c: get_name, verify_payload, livepatch_upload)
    NAME_INVALID(Stage.UPLOAD, EINVAL, "livepatch.c: get_name"),
    PAYLOAD_SIZE(Stage.UPLOAD, EINVAL, "livepatch.c: verify_payload"),
    DUPLICATE_NAME(Stage.UPLOAD, EEXIST, "livepatch.c: livepatch_upload"),

    // B. ELF header (xen/common/livepatch_elf.c: livepatch_header_check; xen/arch/x86/livepatch.c: arch_livepatch_verify_elf)
    HEADER_TRUNCATED(Stage.ELF, EINVAL, "livepatch_elf.c: livepatch_header_check"),
    NOT_ELF(Stage.ELF, EINVAL, "livepatch_elf.c: livepatch_header_check"),
    INVALID_ELF(Stage.ELF, EOPNOTSUPP, "livepatch_elf.c: livepatch_header_check"),
    UNSUPPORTED_MACHINE(Stage.ELF, EOPNOTSUPP, "arch/x86/livepatch.c: arch_livepatch_verify_elf"),
    TOO_MANY_SECTIONS(Stage.ELF, EOPNOTSUPP, "livepatch_elf.c: livepatch_header_check"),
    SECTION_HEADERS_CORRUPT(Stage.ELF, EINVAL, "livepatch_elf.c: livepatch_header_check"),

    // C. Section headers (livepatch_elf.c: elf_resolve_sections, elf_verify_strtab)
    SECTION_DATA_OUT_OF_FILE(Stage.ELF, EINVAL, "livepatch_elf.c: elf_resolve_sections"),
    SECTION_ALIGNMENT_UNSUPPORTED(Stage.ELF, EOPNOTSUPP, "livepatch_elf.c: elf_resolve_sections"),
    SECTION_MISALIGNED(Stage.ELF, EINVAL, "livepatch_elf.c: elf_resolve_sections"),
    BSS_TOO_LARGE(Stage.ELF, EINVAL, "livepatch_elf.c: elf_resolve_sections"),
    MULTIPLE_SYMBOL_TABLES(Stage.ELF, EOPNOTSUPP, "livepatch_elf.c: elf_resolve_sections"),
    SYMBOL_TABLE_CORRUPT(Stage.ELF, EINVAL, "livepatch_elf.c: elf_resolve_sections"),
    STRING_TABLE_CORRUPT(Stage.ELF, EINVAL, "livepatch_elf.c: elf_resolve_sections, elf_verify_strtab"),

    // D. Section names (livepatch_elf.c: elf_resolve_section_names)
    SECTION_NAMES_CORRUPT(Stage.ELF, EINVAL, "livepatch_elf.c: elf_resolve_section_names"),

    // E. Symbols (livepatch_elf.c: elf_get_sym, livepatch_elf_resolve_symbols)
    SYMBOL_NAME_OUT_OF_TABLE(Stage.ELF, EINVAL, "livepatch_elf.c: elf_get_sym"),
    COMMON_SYMBOL(Stage.UPLOAD, EINVAL, "livepatch_elf.c: livepatch_elf_resolve_symbols"),
    UNKNOWN_SYMBOL(Stage.UPLOAD, ENOENT, "livepatch_elf.c: livepatch_elf_resolve_symbols"),
    SYMBOL_SECTION_RESERVED(Stage.UPLOAD, EOPNOTSUPP, "livepatch_elf.c: livepatch_elf_resolve_symbols"),
    SYMBOL_SECTION_OUT_OF_RANGE(Stage.UPLOAD, EINVAL, "livepatch_elf.c: livepatch_elf_resolve_symbols"),

    // F. Layout (livepatch.c: move_payload, calc_section)
    WRITABLE_TEXT(Stage.UPLOAD, EOPNOTSUPP, "livepatch.c: move_payload"),
    ZERO_ALIGNMENT(Stage.UPLOAD, EINVAL, "livepatch.c: calc_section", true),
    // Xen loads .bss.percpu*/.data.percpu* like any other data, in the payload's own memory, but
    // code reaches a per-CPU variable through its symbol's offset into each CPU's per-CPU area
    // (per_cpu(), this_cpu()): for a payload's variable that offset points at unrelated memory.
    PER_CPU_DATA(Stage.UPLOAD, EINVAL, "livepatch.c: move_payload (loads per-CPU sections as plain data)", true),
    PAYLOAD_TOO_LARGE(Stage.UPLOAD, ENOMEM, "livepatch.c: move_payload (vmalloc_xen)"),

    // G. Relocations (livepatch_elf.c: livepatch_elf_perform_relocs; arch/x86/livepatch.c: arch_livepatch_perform_rela)
    RELOCATION_LINK(Stage.UPLOAD, EINVAL, "livepatch_elf.c: livepatch_elf_perform_relocs"),
    RELOCATION_HEADER_CORRUPT(Stage.UPLOAD, EINVAL, "livepatch_elf.c: livepatch_elf_perform_relocs"),
    RELOCATION_TARGET_INVALID(Stage.UPLOAD, EINVAL, "livepatch_elf.c: livepatch_elf_perform_relocs", true),
    REL_UNSUPPORTED(Stage.UPLOAD, EOPNOTSUPP, "arch/x86/livepatch.c: arch_livepatch_perform_rel"),
    RELOCATION_STN_UNDEF(Stage.UPLOAD, EOPNOTSUPP, "arch/x86/livepatch.c: arch_livepatch_perform_rela"),
    RELOCATION_SYMBOL_OUT_OF_RANGE(Stage.UPLOAD, EINVAL, "arch/x86/livepatch.c: arch_livepatch_perform_rela"),
    RELOCATION_AGAINST_IGNORED_SYMBOL(Stage.UPLOAD, EINVAL, "arch/x86/livepatch.c: arch_livepatch_perform_rela"),
    RELOCATION_TYPE_UNSUPPORTED(Stage.UPLOAD, EOPNOTSUPP, "arch/x86/livepatch.c: arch_livepatch_perform_rela"),
    RELOCATION_OFFSET_OUT_OF_SECTION(Stage.UPLOAD, EINVAL, "arch/x86/livepatch.c: arch_livepatch_perform_rela"),
    RELOCATION_OVERFLOW(Stage.UPLOAD, EOVERFLOW, "arch/x86/livepatch.c: arch_livepatch_perform_rela"),

    // H, I. Mandatory and patching sections (livepatch.c: check_special_sections, check_patching_sections)
    SECTION_MISSING(Stage.UPLOAD, EINVAL, "livepatch.c: check_special_sections"),
    SECTION_EMPTY(Stage.UPLOAD, EINVAL, "livepatch.c: check_special_sections, check_patching_sections"),
    NOTHING_TO_PATCH(Stage.UPLOAD, EINVAL, "livepatch.c: check_patching_sections"),
    SECTION_NOT_LOADED(Stage.UPLOAD, EINVAL, "livepatch.c: prepare_payload (reads sec->load_addr)", true),

    // J. .livepatch.funcs (livepatch.c: prepare_payload, resolve_old_address; arch/x86/livepatch.c: arch_livepatch_verify_func; livepatch.h: livepatch_verify_distance)
    FUNCS_SIZE(Stage.UPLOAD, EINVAL, "livepatch.c: prepare_payload, section_ok"),
    FUNC_VERSION(Stage.UPLOAD, EOPNOTSUPP, "livepatch.c: prepare_payload"),
    FUNC_ZERO_SIZE(Stage.UPLOAD, EINVAL, "livepatch.c: prepare_payload"),
    FUNC_NAME_UNREADABLE(Stage.UPLOAD, EFAULT, "livepatch.c: resolve_old_address (dereferences name)", true),
    OLD_ADDRESS_UNRESOLVED(Stage.UPLOAD, ENOENT, "livepatch.c: resolve_old_address"),
    OLD_ADDRESS_UNMAPPED(Stage.UPLOAD, EFAULT, "arch/x86/livepatch.c: arch_livepatch_verify_func (reads old_addr)", true),
    NOP_TOO_LARGE(Stage.UPLOAD, EOPNOTSUPP, "arch/x86/livepatch.c: arch_livepatch_verify_func"),
    NOP_LARGER_THAN_OLD(Stage.UPLOAD, EINVAL, "arch/x86/livepatch.c: arch_livepatch_verify_func"),
    NOP_SHORTER_THAN_ENDBR(Stage.UPLOAD, EINVAL, "arch/x86/livepatch.c: arch_livepatch_apply (livepatch_insn_len underflows)", true),
    OLD_FUNCTION_TOO_SMALL(Stage.UPLOAD, EINVAL, "arch/x86/livepatch.c: arch_livepatch_verify_func"),
    PATCH_OUT_OF_RANGE(Stage.UPLOAD, EOVERFLOW, "livepatch.h: livepatch_verify_distance"),
    PATCHED_TWICE(Stage.UPLOAD, EEXIST, "livepatch.c: apply_payload/revert_payload (would revert to the other patch's jump)", true),

    // K. Hooks (livepatch.c: LIVEPATCH_ASSIGN_SINGLE_HOOK, LIVEPATCH_ASSIGN_MULTI_HOOK)
    HOOK_SECTION_SIZE(Stage.UPLOAD, EINVAL, "livepatch.c: LIVEPATCH_ASSIGN_*_HOOK"),

    // L. Build-ids (livepatch.c: prepare_payload, xen_build_id_dep; common/version.c: xen_build_id_check)
    BUILD_ID_NOTE_INVALID(Stage.UPLOAD, EINVAL, "livepatch.c: prepare_payload; version.c: xen_build_id_check"),
    // Xen 4.20+: parse_buildid passes xen_build_id_check's ENODATA on for a note of the wrong type
    // or name in .note.gnu.build-id or .livepatch.depends (4.17 returned EINVAL for both).
    BUILD_ID_NOTE_NO_DATA(Stage.UPLOAD, ENODATA, "livepatch.c: parse_buildid (4.20+); version.c: xen_build_id_check"),
    ALREADY_LOADED(Stage.UPLOAD, EEXIST, "livepatch.c: prepare_payload"),
    XEN_BUILD_ID_MISMATCH(Stage.UPLOAD, EINVAL, "livepatch.c: xen_build_id_dep"),

    // L2. Funcs entries, checks beyond Xen's own (xen/include/public/sysctl.h: struct livepatch_func;
    // xen/arch/x86/livepatch.c: arch_livepatch_apply). Bytes 33..71 are _pad[39] from 4.17.3 but
    // held the hypervisor's saved instructions and 'applied' marker in 4.14 to 4.17.2, which trust
    // them; an old_size past the function's end in xen-syms names bytes of the next function.
    FUNC_RESERVED_NOT_ZERO(Stage.UPLOAD, EINVAL, "sysctl.h: struct livepatch_func (_pad, hypervisor state before 4.17.3)", true),
    OLD_SIZE_PAST_FUNCTION(Stage.UPLOAD, EINVAL, "arch/x86/livepatch.c: arch_livepatch_verify_func (old_size is not compared with the function)", true),

    // M. Special sections (livepatch.c: prepare_payload)
    BUG_FRAMES_SIZE(Stage.UPLOAD, EINVAL, "livepatch.c: prepare_payload, section_ok"),
    ALTERNATIVES_INVALID(Stage.UPLOAD, EINVAL, "livepatch.c: prepare_payload (.altinstructions)"),
    // Xen 4.20+ returns ENOSPC; 4.17 makes the same test with BUG_ON and stops the host, so the
    // 4.17 model refuses it too, with 4.20's errno, as a check beyond that release
    // (HypervisorRules.checksItself).
    ALTERNATIVE_TOO_LONG(Stage.UPLOAD, ENOSPC, "arch/x86/alternative.c: _apply_alternatives (4.20+; a BUG_ON before)"),
    // A CPU feature number at or above 32 * NCAPINTS: Xen 4.20+ returns ERANGE, 4.17's
    // BUG_ON(feat >= NCAPINTS * 32) stops the host; refused the same way as ALTERNATIVE_TOO_LONG.
    ALTERNATIVE_FEATURE_OUT_OF_RANGE(Stage.UPLOAD, ERANGE, "arch/x86/alternative.c: _apply_alternatives (4.20+; a BUG_ON before)"),
    // Xen 4.21+ reads .alt_call_sites; earlier releases load it as plain data.
    ALT_CALL_SITES_INVALID(Stage.UPLOAD, EINVAL, "livepatch.c: prepare_payload (.alt_call_sites, 4.21+); arch/x86/alternative.c: apply_alt_calls"),
    EX_TABLE_SIZE(Stage.UPLOAD, EINVAL, "livepatch.c: prepare_payload, section_ok"),
    MODINFO_FORMAT(Stage.UPLOAD, EINVAL, "livepatch.c: prepare_payload (.modinfo)"),

    // N. Symbol table (livepatch.c: build_symbol_table)
    DUPLICATE_SYMBOL(Stage.UPLOAD, EEXIST, "livepatch.c: build_symbol_table"),

    // Apply (livepatch.c: livepatch_action, build_id_dep, livepatch_verify_expectation_fn)
    DEPENDS_MISMATCH(Stage.APPLY, EINVAL, "livepatch.c: build_id_dep"),
    // Not reachable through LoadCheck (each payload is applied once, never re-applied after a
    // REPLACE reverted it); kept so the model stays complete if a re-apply action is added.
    REAPPLY_WITH_DATA(Stage.APPLY, EINVAL, "livepatch.c: livepatch_action (LIVEPATCH_ACTION_APPLY, safe_to_reapply)"),
    // Not reachable with a hypervisor (upload resolves every old_addr or refuses first); only a
    // check without xen-syms, which LoadCheck.check's contract excludes, could get here.
    EXPECTATION_WITHOUT_ADDRESS(Stage.APPLY, EFAULT, "livepatch.c: livepatch_verify_expectation_fn"),
    EXPECTATION_RESERVED_BITS(Stage.APPLY, EINVAL, "livepatch.c: livepatch_verify_expectation_fn"),
    EXPECTATION_LONGER_THAN_OLD(Stage.APPLY, ERANGE, "livepatch.c: livepatch_verify_expectation_fn"),
    EXPECTATION_FAILED(Stage.APPLY, EINVAL, "livepatch.c: livepatch_verify_expectation_fn"),
    REPLACE_WITH_VETOING_HOOKS(Stage.APPLY, EOPNOTSUPP, "livepatch.c: livepatch_action (LIVEPATCH_ACTION_REPLACE)");

    /** When the hypervisor makes the check. */
    public enum Stage {
        /** While parsing the ELF structure on upload: the file is malformed. */
        ELF,
        /** Later during upload: a well-formed ELF file that is not a loadable payload. */
        UPLOAD,
        /** On APPLY or REPLACE of an uploaded payload. */
        APPLY
    }

    private final Stage stage;
    private final Errno errno;
    private final String xenSource;
    private final boolean beyondXen;

    RejectReason(Stage stage, Errno errno, String xenSource) {
        this(stage, errno, xenSource, false);
    }

    RejectReason(Stage stage, Errno errno, String xenSource, boolean beyondXen) {
        this.stage = stage;
        this.errno = errno;
        this.xenSource = xenSource;
        this.beyondXen = beyondXen;
    }

    public Stage stage() {
        return stage;
    }

    public Errno errno() {
        return errno;
    }

    /** The Xen 4.17.5 file and function behind the check (paths relative to {@code xen/common/} unless noted). */
    public String xenSource() {
        return xenSource;
    }

    /** True for hazards no modelled Xen release catches itself (it would crash or misbehave instead). */
    public boolean beyondXen() {
        return beyondXen;
    }

    /** True when the file is not even a well-formed ELF object by Xen's rules. */
    public boolean malformed() {
        return stage == Stage.ELF;
    }
}
