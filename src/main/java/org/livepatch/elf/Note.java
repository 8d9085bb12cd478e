package org.livepatch.elf;

/** One entry of a SHT_NOTE section, e.g. the GNU build-id ({@code "GNU"}, type 3). */
public record Note(String name, int type, Bytes desc) {

    public boolean isGnuBuildId() {
        return "GNU".equals(name) && type == Elf.NT_GNU_BUILD_ID;
    }
}
