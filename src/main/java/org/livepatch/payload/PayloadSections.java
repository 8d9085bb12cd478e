package org.livepatch.payload;

import java.util.List;

/**
 * Names of the sections that make an ELF object a live-patch payload, as the hypervisor looks
 * them up (xen/common/livepatch.c: prepare_payload, check_special_sections).
 */
public final class PayloadSections {
    private PayloadSections() {}

    public static final String FUNCS = ".livepatch.funcs";
    public static final String STRINGS = ".livepatch.strings";
    /** GNU build-id note of what this payload applies on top of (the hypervisor or the payload below). */
    public static final String DEPENDS = ".livepatch.depends";
    /** GNU build-id note of the hypervisor itself (mandatory since Xen 4.15). */
    public static final String XEN_DEPENDS = ".livepatch.xen_depends";
    /** The payload's own build-id, which a payload stacked on top names in its depends. */
    public static final String BUILD_ID = ".note.gnu.build-id";

    public static final String HOOK_PREFIX = ".livepatch.hooks.";
    public static final String HOOK_LOAD = ".livepatch.hooks.load";
    public static final String HOOK_UNLOAD = ".livepatch.hooks.unload";
    public static final String HOOK_PREAPPLY = ".livepatch.hooks.preapply";
    public static final String HOOK_APPLY = ".livepatch.hooks.apply";
    public static final String HOOK_POSTAPPLY = ".livepatch.hooks.postapply";
    public static final String HOOK_PREREVERT = ".livepatch.hooks.prerevert";
    public static final String HOOK_REVERT = ".livepatch.hooks.revert";
    public static final String HOOK_POSTREVERT = ".livepatch.hooks.postrevert";

    /** Every hook section Xen 4.17 knows. load/unload take arrays of pointers; the others exactly one. */
    public static final List<String> HOOKS = List.of(HOOK_LOAD, HOOK_UNLOAD, HOOK_PREAPPLY, HOOK_APPLY, HOOK_POSTAPPLY,
            HOOK_PREREVERT, HOOK_REVERT, HOOK_POSTREVERT);

    /** Size of one hook entry: a pointer on 64-bit targets. */
    public static final int HOOK_ENTRY_SIZE = 8;
}
