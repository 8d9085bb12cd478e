package org.livepatch.xenbuild;

import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;
import org.livepatch.elf.Bytes;

/**
 * A GNU build-id as the options name it: exactly 40 hex digits (SHA-1, what Xen's
 * {@code ld --build-id=sha1} writes). Kept in lower case so comparison is textual.
 */
public record BuildId(String hex) {
    private static final Pattern SHA1_HEX = Pattern.compile("[0-9a-fA-F]{40}");

    public BuildId {
        if (!SHA1_HEX.matcher(hex).matches()) {
            throw new IllegalArgumentException("not 40 hex digits: " + hex);
        }
        hex = hex.toLowerCase(Locale.ROOT);
    }

    /**
     * Parses an option value, failing with {@link BuildException.Reason#BAD_BUILD_ID}. Xen's
     * loader compares the whole note (xen/common/livepatch.c: check_xen_build_id), so a short or
     * padded value could never match: refuse it here rather than build a payload Xen rejects.
     */
    public static BuildId parseOption(String option, String value) throws BuildException {
        if (value == null || !SHA1_HEX.matcher(value).matches()) {
            throw new BuildException(BuildException.Reason.BAD_BUILD_ID, null,
                    option + " '" + (value == null ? "" : value) + "' is not a build-id (expected exactly 40 hex digits)");
        }
        return new BuildId(value);
    }

    public static BuildId of(Bytes bytes) {
        return new BuildId(bytes.toHex());
    }

    public byte[] toBytes() {
        return HexFormat.of().parseHex(hex);
    }

    @Override
    public String toString() {
        return hex;
    }
}
