package org.livepatch.link;

import java.util.HexFormat;
import java.util.Optional;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.verify.BuildIdNoteCheck;

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
    public static final int HEADER_SIZE = BuildIdNoteCheck.HEADER_SIZE;
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
     * Reads the first note of a section the way the hypervisor does ({@link BuildIdNoteCheck},
     * the rule the verifier's loader uses too), worded for the assembler's list of problems.
     *
     * @return the reason the hypervisor would refuse it, or empty when it accepts
     */
    public static Optional<String> problemWith(Bytes section) {
        BuildIdNoteCheck.Result r = BuildIdNoteCheck.check(section);
        if (r.accepted()) {
            return Optional.empty();
        }
        return Optional.of(switch (r.problem()) {
            case TOO_SMALL -> "is " + r.size() + " bytes, not more than a note header (12)";
            case WRONG_TYPE -> "first note has type " + r.type() + ", not NT_GNU_BUILD_ID (3)";
            case NAME_TOO_SHORT -> "note name size " + r.namesz() + " is below 4";
            case OVERRUNS -> "note name (" + r.namesz() + ") and descriptor (" + r.descsz() + ") run past the section (" + r.size() + " bytes)";
            case NOT_GNU -> "note name is not \"GNU\"";
            case EMPTY -> "build-id is empty";
            case DESCRIPTOR_PAST_END -> "build-id runs past the section";
        });
    }

    /** The first note of a section as Xen reads it; empty when Xen would refuse it. */
    public static Optional<BuildIdNote> parse(Bytes section) {
        BuildIdNoteCheck.Result r = BuildIdNoteCheck.check(section);
        return r.accepted() ? Optional.of(new BuildIdNote(r.id(section))) : Optional.empty();
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
