package org.livepatch.xenbuild;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a comparison needs of a preprocessed text it has read before: where each top-level item
 * ends, each item's digest, and how many typedefs declare each name. With it, the next
 * comparison against the text reads only the lines that changed ({@link UnitChange}).
 *
 * @param length the text's length in chars
 * @param textHash a digest of the whole text: an outline is used only for the text it describes
 * @param ends the offset just past each item's last token
 * @param hashes each item's digest ({@link TopLevelItems#hash})
 * @param typedefCounts how many typedef items declare each name
 */
record UnitOutline(int length, int textHash, int[] ends, long[] hashes, Map<String, Integer> typedefCounts) {
    UnitOutline {
        typedefCounts = Map.copyOf(typedefCounts);
    }

    /** Reads {@code text} whole. */
    static UnitOutline of(String text, boolean stripLocalAbsolute) throws CTokens.Unreadable {
        return TopLevelItems.of(CTokens.of(text), stripLocalAbsolute).outline(text.length(), digest(bytes(text)));
    }

    /** Whether this outline describes the text of {@code bytes} (its length and digest agree). */
    boolean describes(byte[] text) {
        return length == text.length && textHash == digest(text);
    }

    static int digest(byte[] text) {
        return java.util.Arrays.hashCode(text);
    }

    /** A text as read (ISO-8859-1: one byte per char). */
    static byte[] bytes(String text) {
        return text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    Set<String> typedefNames() {
        Set<String> out = new TreeSet<>();
        typedefCounts.forEach((n, c) -> {
            if (c > 0) {
                out.add(n);
            }
        });
        return out;
    }
}
