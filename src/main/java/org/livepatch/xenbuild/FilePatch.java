package org.livepatch.xenbuild;

import java.util.List;
import java.util.Optional;

/**
 * The part of a source patch that concerns one file: its paths (after {@code -p1}), what a git
 * header says about it, and its hunks in order. A file may have several parts in one patch; they
 * apply one after the other.
 *
 * @param patchLine  line of the patch file where this part starts, for messages
 * @param git        a {@code diff --git} part: renames, copies and modes are honoured
 * @param rename     git {@code rename from/to}: the old path is gone afterwards
 * @param newMode    git's {@code new file mode} or {@code new mode} (permission bits), or empty
 * @param problem    why this part cannot be applied (a malformed hunk, a binary diff), or empty
 */
public record FilePatch(int patchLine, FileChange change, boolean git, boolean rename, Optional<Integer> newMode,
        List<Hunk> hunks, Optional<String> problem) {

    public FilePatch {
        hunks = List.copyOf(hunks);
    }
}
