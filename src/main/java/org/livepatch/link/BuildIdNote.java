package org.livepatch.link;

import java.util.HexFormat;
import java.util.Optional;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;

/**
 * A GNU build-id note as a payload carries it in {@code .livepatch.depends},
 * {@code .livepatch.xen_depends} and {@code .note.gnu.build-id}:
 * {@code namesz=4, descsz=len(id), type=NT_GNU_BUILD_ID(3), "GNU\0", id}, padded to 4 bytes.
 *
 * <p>The length of the id is taken from the id itself (20 bytes for SHA-1, 16 for the MD5/UUID
 * ids of PE builds), not hard-coded to 20 as the upstream script did before 2025.
 */
public record BuildIdNote(Bytes id) {
    /** sizeof(Elf_Note): namesz, descsz, type. */
    public static final int HEADER_SIZE = 12;
    private static final int NAME_SIZE = 4; // "GNU\0"

    public BuildIdNote {
        if (id.isEmpty()) {
            throw new IllegalArgumentException("a build-id cannot be empty");
        }
    }

    /** Parses a build-id given as hex, e.g. from {@code --depends} or {@code xen-livepatch}/{@code readelf -n} output. */
    public static BuildIdNote ofHex(String hex) {
        String h = hex.strip();
        if (h.isEmpty() || h.length() % 2 != 0 || !h.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new IllegalArgumentException("build-id '" + hex + "' is not an even number of hex digits");
        }
        return new BuildIdNote(Bytes.copyOf(HexFormat.of().parseHex(h)));
    }

    /** The section contents: one note, the descriptor padded to a multiple of 4 as the gABI asks. */
    public Bytes encode() {
        int descPadded = (id.length() + 3) & ~3;
        byte[] b = new byte[HEADER_SIZE + NAME_SIZE + descPadded];
        put32(b, 0, NAME_SIZE);
        put32(b, 4, id.length());
        put32(b, 8, Elf.NT_GNU_BUILD_ID);
        b[12] = 'G';
        b[13] = 'N';
        b[14] = 'U';
        id.copyTo(b, HEADER_SIZE + NAME_SIZE);
        return Bytes.copyOf(b);
    }

    /** Offset of the descriptor (the id bytes) inside {@link #encode()}. */
    public static int descOffset() {
        return HEADER_SIZE + NAME_SIZE;
    }

    /**
     * Reads the first note of a section the way the hypervisor does
     * ({@code xen/common/version.c: xen_build_id_check}, called from
     * {@code xen/common/livepatch.c: prepare_payload}): the section must be larger than a note
     * header, the note of type NT_GNU_BUILD_ID, its name at least 4 bytes and equal to "GNU",
     * name and descriptor inside the section, the descriptor non-empty. Only the first note counts.
     *
     * @return the reason the hypervisor would refuse it, or empty when it accepts
     */
    public static Optional<String> problemWith(Bytes section) {
        if (section.length() <= HEADER_SIZE) {
            return Optional.of("is " + section.length() + " bytes, not more than a note header (12)");
        }
        long namesz = section.u32(0);
        long descsz = section.u32(4);
        long type = section.u32(8);
        if (type != Elf.NT_GNU_BUILD_ID) {
            return Optional.of("first note has type " + type + ", not NT_GNU_BUILD_ID (3)");
        }
        if (namesz < NAME_SIZE) {
            return Optional.of("note name size " + namesz + " is below 4");
        }
        if (namesz + descsz > section.length() - HEADER_SIZE) {
            return Optional.of("note name (" + namesz + ") and descriptor (" + descsz + ") run past the section (" + section.length() + " bytes)");
        }
        if (section.u8(12) != 'G' || section.u8(13) != 'N' || section.u8(14) != 'U' || section.u8(15) != 0) {
            return Optional.of("note name is not \"GNU\"");
        }
        if (descsz == 0) {
            return Optional.of("build-id is empty");
        }
        long descOff = HEADER_SIZE + ((namesz + 3) & ~3L);
        if (descOff + descsz > section.length()) {
            return Optional.of("build-id runs past the section");
        }
        return Optional.empty();
    }

    /** The first note of a section as Xen reads it; empty when Xen would refuse it. */
    public static Optional<BuildIdNote> parse(Bytes section) {
        if (problemWith(section).isPresent()) {
            return Optional.empty();
        }
        long namesz = section.u32(0);
        int descOff = (int) (HEADER_SIZE + ((namesz + 3) & ~3L));
        return Optional.of(new BuildIdNote(section.slice(descOff, (int) section.u32(4))));
    }

    public String hex() {
        return id.toHex();
    }

    private static void put32(byte[] b, int o, long v) {
        for (int i = 0; i < 4; i++) b[o + i] = (byte) (v >>> (8 * i));
    }

    @Override
    public String toString() {
        return hex();
    }
}
