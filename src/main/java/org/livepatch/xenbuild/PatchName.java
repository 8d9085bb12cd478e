package org.livepatch.xenbuild;

import java.nio.file.Path;

/**
 * The payload name derived from the patch file name, upstream's rule (livepatch-build:
 * make_patch_name) so existing scripts find the same {@code OUTPUT/<name>.livepatch}:
 * basename, the last extension dropped when the name contains ".patch" or ".diff", every
 * character outside {@code [A-Za-z0-9_-]} replaced by '-', cut to 48 characters.
 *
 * <p>48 is the limit of the 2019 tool this one replaces. Later upstream raised it to 127 because
 * the hypervisor takes names up to XEN_LIVEPATCH_NAME_SIZE - 1 (xen/common/livepatch.c:
 * get_name); we keep 48 for byte-identical output names and expose the limit.
 */
public final class PatchName {
    public static final int MAX_LENGTH = 48;

    private PatchName() {}

    public static String of(Path patchFile) {
        return of(patchFile.getFileName().toString());
    }

    /**
     * Refuses, before any work, a patch file whose name gives no usable payload name: one that
     * comes out empty ({@code .patch}: the extension is all there is) or without a single ASCII
     * letter or digit ({@code ü.diff} gives {@code -}). Non-ASCII letters are not transliterated
     * (ü is not u everywhere: ü to ue in German): like every other character outside the set,
     * each becomes '-', as in upstream's rule, so existing scripts find the same names.
     */
    public static String check(Path patchFile) throws BuildException {
        Path fileName = patchFile.getFileName();
        String name = fileName == null ? "" : of(fileName.toString());
        if (name.chars().noneMatch(c -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            throw new BuildException(BuildException.Reason.BAD_PATCH, patchFile,
                    "the payload is named after the patch file, and this name gives "
                            + (name.isEmpty() ? "an empty name" : "'" + name + "'")
                            + ": rename the patch so its name (without .patch/.diff) has an ASCII letter or digit");
        }
        return name;
    }

    public static String of(String fileName) {
        String name = fileName;
        if (name.contains(".patch") || name.contains(".diff")) {
            int dot = name.lastIndexOf('.');
            if (dot >= 0) {
                name = name.substring(0, dot);
            }
        }
        StringBuilder sb = new StringBuilder(name.length());
        for (char c : name.toCharArray()) {
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
            sb.append(ok ? c : '-');
        }
        return sb.length() > MAX_LENGTH ? sb.substring(0, MAX_LENGTH) : sb.toString();
    }
}
