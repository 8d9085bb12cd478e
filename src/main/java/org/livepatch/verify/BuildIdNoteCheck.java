package org.livepatch.verify;

import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;

/**
 * How the hypervisor reads a build-id note ({@code .note.gnu.build-id}, {@code .livepatch.depends},
 * {@code .livepatch.xen_depends}): the one implementation of {@code xen/common/version.c:
 * xen_build_id_check} and the size and emptiness tests its callers in xen/common/livepatch.c add,
 * in their order. Only the first note counts. The loader and the assembler's upload check word
 * the outcome each in their own way; the rule is here once.
 */
public final class BuildIdNoteCheck {
    /** sizeof(Elf_Note): namesz, descsz, type. */
    public static final int HEADER_SIZE = 12;
    private static final int GNU_NAME_SIZE = 4;

    private BuildIdNoteCheck() {}

    /** Why a note is refused, in the order the checks are made. */
    public enum Problem {
        /** The section is not larger than a note header (the caller's {@code sh_size <= sizeof(*n)}). */
        TOO_SMALL(false),
        /** The type is not NT_GNU_BUILD_ID: {@code xen_build_id_check} returns ENODATA. */
        WRONG_TYPE(true),
        /** namesz below 4, so it cannot hold "GNU\0". */
        NAME_TOO_SHORT(false),
        /** namesz + descsz run past the section. */
        OVERRUNS(false),
        /** The name is not "GNU": {@code xen_build_id_check} returns ENODATA. */
        NOT_GNU(true),
        /** descsz is 0 (the caller's {@code !id->len}). */
        EMPTY(false),
        /** Xen checks namesz + descsz but reads the descriptor after the name's padding to 4 bytes. */
        DESCRIPTOR_PAST_END(false);

        private final boolean enodata;

        Problem(boolean enodata) {
            this.enodata = enodata;
        }

        /** True when {@code xen_build_id_check} itself returns ENODATA for it (the others are EINVAL wherever they are caught). */
        public boolean enodata() {
            return enodata;
        }
    }

    /**
     * The outcome for one section's bytes.
     *
     * @param problem    null when the hypervisor accepts the note
     * @param descOffset where the id starts in the section (valid when accepted)
     */
    public record Result(Problem problem, long namesz, long descsz, long type, long size, int descOffset) {
        public boolean accepted() {
            return problem == null;
        }

        /** The id (the note's descriptor); only when accepted. */
        public Bytes id(Bytes section) {
            if (!accepted()) {
                throw new IllegalStateException("note refused: " + problem);
            }
            return section.slice(descOffset, (int) descsz);
        }
    }

    public static Result check(Bytes section) {
        long size = section.length();
        if (size <= HEADER_SIZE) {
            return new Result(Problem.TOO_SMALL, 0, 0, 0, size, 0);
        }
        long namesz = section.u32(0);
        long descsz = section.u32(4);
        long type = section.u32(8);
        Problem p = null;
        long descOff = HEADER_SIZE + ((namesz + 3) & ~3L);
        if (type != Elf.NT_GNU_BUILD_ID) {
            p = Problem.WRONG_TYPE;
        } else if (namesz < GNU_NAME_SIZE) {
            p = Problem.NAME_TOO_SHORT;
        } else if (namesz + descsz > size - HEADER_SIZE) {
            // Xen's 32-bit sum can wrap; it refuses that separately, with the same errno.
            p = Problem.OVERRUNS;
        } else if (section.u8(12) != 'G' || section.u8(13) != 'N' || section.u8(14) != 'U' || section.u8(15) != 0) {
            p = Problem.NOT_GNU;
        } else if (descsz == 0) {
            p = Problem.EMPTY;
        } else if (descOff + descsz > size) {
            p = Problem.DESCRIPTOR_PAST_END;
        }
        return new Result(p, namesz, descsz, type, size, p == null ? (int) descOff : 0);
    }
}
