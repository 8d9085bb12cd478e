# Every exit code of the project's launchers and scripts, one variable each (sourced, not run).
# Generated from src/main/java/org/livepatch/cli/ExitCode.java: do not edit; after changing
# ExitCode, run  mvn -q -o compile && java -cp target/classes org.livepatch.cli.ExitCodeFiles .
# shellcheck disable=SC2034  # used by the scripts that source this file
LPB_EXIT_OK=0  # success: the payload (or object) is written, or every payload is accepted
LPB_EXIT_VERIFY_REFUSED=1  # `livepatch-verify`: a payload is refused (the reason and Xen's errno are printed), or `deps` finds a dependency missing or wrong
LPB_EXIT_BATCH_FAILED=1  # `livepatch-build --batch`: at least one patch produced no payload; with `--cumulative`: a changeset that is not excluded made the series unpatchable (each patch's own code is in the summary)
LPB_EXIT_DIFF_REFUSED=2  # `create-diff-object`: a difference that cannot be patched safely (as upstream's)
LPB_EXIT_NO_CHANGE=3  # no functional change; nothing written
LPB_EXIT_BAD_OPTION=10  # an option value is malformed (`-j` below 1, an unknown `-k` value, an `--exclude` naming no changeset of the series, ...)
LPB_EXIT_BAD_SOURCE_TREE=11  # `-s` is missing or is not a Xen tree (no `xen/Makefile`)
LPB_EXIT_BAD_CONFIG=12  # `-c` is missing or unreadable
LPB_EXIT_CONFIG_NO_LIVEPATCH=13  # the config does not enable `CONFIG_LIVEPATCH`
LPB_EXIT_BAD_BUILD_ID=14  # `--depends` or `--xen-depends` is not 40 hex digits
LPB_EXIT_BAD_XEN_SYMS=15  # `--xen-syms` is missing, unreadable, not ELF, or has no build-id
LPB_EXIT_XEN_SYMS_MISMATCH=16  # `--xen-syms` has another build-id than `--xen-depends`
LPB_EXIT_TOOL_MISSING=17  # gcc, ld, make or patch is not on PATH
LPB_EXIT_BAD_OUTPUT_DIR=18  # the output directory cannot be used (not empty, inside SRC, cannot be created or written), or `-k build` on objects another patch or reference made, or the `--export-reference` file exists
LPB_EXIT_BAD_PATCH=19  # the patch is missing, unreadable, not a unified diff, or its name makes no payload name
LPB_EXIT_PATCH_DOES_NOT_APPLY=20  # the patch does not apply with zero fuzz
LPB_EXIT_PATCH_NO_COMPILED_FILE=21  # the patch changes no file that is compiled into the hypervisor
LPB_EXIT_PATCH_OUTSIDE_HYPERVISOR=22  # the patch changes only files outside `xen/`
LPB_EXIT_REFERENCE_BUILD_FAILED=23  # building the original tree failed (the log says why)
LPB_EXIT_PATCHED_BUILD_FAILED=24  # building the patched objects failed (the log says why)
LPB_EXIT_NO_CHANGED_OBJECTS=25  # the patched objects are byte-identical to the originals
LPB_EXIT_WORKSPACE=26  # the cache or a work directory cannot be read or written, or a cache entry is still damaged after it was rebuilt
LPB_EXIT_SOURCE_CHANGED=27  # SRC changed while it was being copied
LPB_EXIT_INTERRUPTED=28  # interrupted (SIGINT, SIGTERM); the one line says what was kept
LPB_EXIT_COMPILER_MISMATCH=29  # `xen-syms` names another gcc than the one on PATH (`--skip-compiler-check` overrides)
LPB_EXIT_UNPATCHABLE=30  # a change that cannot be live-patched: changed data, new per-CPU data, a changed type layout, a function too small, ...
LPB_EXIT_DIFF_FAILED=31  # an object could not be read or diffed
LPB_EXIT_PAYLOAD_REJECTED=32  # linking or the hypervisor's limits refuse the payload; nothing written
LPB_EXIT_VERIFY_FAILED=33  # our loader, checking the payload as Xen would, refuses it; nothing written
LPB_EXIT_OUTPUT=34  # writing the payload or the report failed
LPB_EXIT_PACKAGE_UNAVAILABLE=35  # `--debian`: the source, hypervisor or `-dbg` package of that version cannot be fetched (unknown version, no `deb-src` entry, no network)
LPB_EXIT_REFERENCE_NOT_REPRODUCED=36  # `--debian`: the rebuilt hypervisor's build-id is not the stock one (the line names the first differing section and the likely cause); nothing diffed
LPB_EXIT_REFERENCE_ARCHIVE=40  # `--import-reference`: the file is not a reference archive, or is truncated, damaged, tampered with or of another format version
LPB_EXIT_REFERENCE_MISMATCH=41  # `--import-reference` with `-s`/`-c`: the archive's reference is for another source, config or toolchain (the differing input is named)
LPB_EXIT_SLICE_PART=42  # `--collect`: a DIR is missing, or holds no `batch.json` of a `--slice` run, or an unreadable one
LPB_EXIT_SLICES_MISMATCH=43  # `--collect`: the parts are not slices 1..N of one series (another series, other exclusions or N, a slice given twice or missing, or slices that disagree on a changeset they both built); nothing written
LPB_EXIT_USAGE=64  # usage: an unknown, missing or malformed option or argument
LPB_EXIT_BAD_INPUT=65  # malformed input: a file that is not the ELF object, payload or `xen-syms` it should be
LPB_EXIT_UNAVAILABLE=69  # something the launcher needs is missing: a JDK >= 21 (`lib/launch.sh`); docker, an engine, the image or its launcher (`toolchain-docker/livepatch-build`); a build tool (`demo`)
LPB_EXIT_INTERNAL=70  # internal error: a bug (the stack trace is printed), or the launcher could not build its jar
LPB_EXIT_IO=74  # a file cannot be read or written (missing, permission denied, ...), where no code above names it
