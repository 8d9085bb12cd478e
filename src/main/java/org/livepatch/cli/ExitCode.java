package org.livepatch.cli;

/**
 * Every exit code of the project, in one place: the Java launchers' and the shell scripts' around
 * them ({@code lib/launch.sh}, {@code toolchain-docker/livepatch-build}, {@code demo}). Scripts
 * test these numbers, so they are stable; the domain packages only name a reason, and
 * {@link ExitMapper} turns each reason into one of these.
 *
 * <p>A failure any launcher can meet has one number in all of them: 64 usage, 65 malformed input,
 * 74 a file that cannot be read or written, 28 interrupted, 70 internal error. Where
 * {@code livepatch-build} has a code for one of its inputs (a missing {@code -c} is 12, not 74),
 * the input's own code is more precise and wins. {@code create-diff-object} keeps upstream's
 * 0, 2 and 3 for its outcomes, which upstream's scripts test.
 *
 * <p>The README's exit-code table and {@code lib/exit-codes.sh} (which the scripts source) are
 * written from this enum by {@link ExitCodeFiles}; {@code ExitCodeFilesTest} fails when either
 * differs from it.
 */
public enum ExitCode {
    OK(0, "success: the payload (or object) is written, or every payload is accepted"),
    VERIFY_REFUSED(1, "`livepatch-verify`: a payload is refused (the reason and Xen's errno are printed), or `deps` finds a dependency missing or wrong"),
    BATCH_FAILED(1, "`livepatch-build --batch`: at least one patch produced no payload; with `--cumulative`: a changeset that is not excluded made the series unpatchable (each patch's own code is in the summary)"),
    DIFF_REFUSED(2, "`create-diff-object`: a difference that cannot be patched safely (as upstream's)"),
    NO_CHANGE(3, "no functional change; nothing written"),
    BAD_OPTION(10, "an option value is malformed (`-j` below 1, an unknown `-k` value, an `--exclude` naming no changeset of the series, ...)"),
    BAD_SOURCE_TREE(11, "`-s` is missing or is not a Xen tree (no `xen/Makefile`)"),
    BAD_CONFIG(12, "`-c` is missing or unreadable"),
    CONFIG_NO_LIVEPATCH(13, "the config does not enable `CONFIG_LIVEPATCH`"),
    BAD_BUILD_ID(14, "`--depends` or `--xen-depends` is not 40 hex digits"),
    BAD_XEN_SYMS(15, "`--xen-syms` is missing, unreadable, not ELF, or has no build-id"),
    XEN_SYMS_MISMATCH(16, "`--xen-syms` has another build-id than `--xen-depends`"),
    TOOL_MISSING(17, "gcc, ld, make or patch is not on PATH"),
    BAD_OUTPUT_DIR(18, "the output directory cannot be used (not empty, inside SRC, cannot be created or written), or `-k build` on objects another patch or reference made, or the `--export-reference` file exists"),
    BAD_PATCH(19, "the patch is missing, unreadable, not a unified diff, or its name makes no payload name"),
    PATCH_DOES_NOT_APPLY(20, "the patch does not apply with zero fuzz"),
    PATCH_NO_COMPILED_FILE(21, "the patch changes no file that is compiled into the hypervisor"),
    PATCH_OUTSIDE_HYPERVISOR(22, "the patch changes only files outside `xen/`"),
    REFERENCE_BUILD_FAILED(23, "building the original tree failed (the log says why)"),
    PATCHED_BUILD_FAILED(24, "building the patched objects failed (the log says why)"),
    NO_CHANGED_OBJECTS(25, "the patched objects are byte-identical to the originals"),
    WORKSPACE(26, "the cache or a work directory cannot be read or written, or a cache entry is still damaged after it was rebuilt"),
    SOURCE_CHANGED(27, "SRC changed while it was being copied"),
    INTERRUPTED(28, "interrupted (SIGINT, SIGTERM); the one line says what was kept"),
    COMPILER_MISMATCH(29, "`xen-syms` names another gcc than the one on PATH (`--skip-compiler-check` overrides)"),
    UNPATCHABLE(30, "a change that cannot be live-patched: changed data, new per-CPU data, a changed type layout, a function too small, ..."),
    DIFF_FAILED(31, "an object could not be read or diffed"),
    PAYLOAD_REJECTED(32, "linking or the hypervisor's limits refuse the payload; nothing written"),
    VERIFY_FAILED(33, "our loader, checking the payload as Xen would, refuses it; nothing written"),
    OUTPUT(34, "writing the payload or the report failed"),
    PACKAGE_UNAVAILABLE(35, "`--debian`: the source, hypervisor or `-dbg` package of that version cannot be fetched (unknown version, no `deb-src` entry, no network)"),
    REFERENCE_NOT_REPRODUCED(36, "`--debian`: the rebuilt hypervisor's build-id is not the stock one (the line names the first differing section and the likely cause); nothing diffed"),
    REFERENCE_ARCHIVE(40, "`--import-reference`: the file is not a reference archive, or is truncated, damaged, tampered with or of another format version"),
    REFERENCE_MISMATCH(41, "`--import-reference` with `-s`/`-c`: the archive's reference is for another source, config or toolchain (the differing input is named)"),
    SLICE_PART(42, "`--collect`: a DIR is missing, or holds no `batch.json` of a `--slice` run, or an unreadable one"),
    SLICES_MISMATCH(43, "`--collect`: the parts are not slices 1..N of one series (another series, other exclusions or N, a slice given twice or missing, or slices that disagree on a changeset they both built); nothing written"),
    USAGE(64, "usage: an unknown, missing or malformed option or argument"),
    BAD_INPUT(65, "malformed input: a file that is not the ELF object, payload or `xen-syms` it should be"),
    UNAVAILABLE(69, "something the launcher needs is missing: a JDK >= 21 (`lib/launch.sh`); docker, an engine, the image or its launcher (`toolchain-docker/livepatch-build`); a build tool (`demo`)"),
    INTERNAL(70, "internal error: a bug (the stack trace is printed), or the launcher could not build its jar"),
    IO(74, "a file cannot be read or written (missing, permission denied, ...), where no code above names it");

    private final int number;
    private final String meaning;

    ExitCode(int number, String meaning) {
        this.number = number;
        this.meaning = meaning;
    }

    /** What the process exits with. */
    public int number() {
        return number;
    }

    /** One line for the README's table: what the code tells the user. */
    public String meaning() {
        return meaning;
    }

    /** The variable that holds it in {@code lib/exit-codes.sh}. */
    public String shellName() {
        return "LPB_EXIT_" + name();
    }
}
