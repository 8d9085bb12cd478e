package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Affected-object discovery on a small tree laid out like a built Xen 4.17 (fixdep .cmd files). */
class DependencyIndexTest {
    @TempDir
    Path tmp;

    private void object(String obj, String... deps) throws Exception {
        Path o = tmp.resolve("xen").resolve(obj);
        Files.createDirectories(o.getParent());
        Files.writeString(o, "obj");
        StringBuilder cmd = new StringBuilder("cmd_" + obj + " := gcc ...\n\nsource_" + obj + " := " + deps[0] + "\n\ndeps_" + obj + " := \\\n");
        for (int i = 1; i < deps.length; i++) {
            cmd.append("  ").append(deps[i]).append(" \\\n");
        }
        cmd.append("\n").append(obj).append(": $(deps_").append(obj).append(")\n");
        Files.writeString(o.resolveSibling("." + o.getFileName() + ".cmd"), cmd.toString());
    }

    private void file(String rel) throws Exception {
        Path p = tmp.resolve("xen").resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, "src");
    }

    @Test
    void followsSymlinksReincludesDerivedObjectsAndSkipsLinkObjects() throws Exception {
        file("common/efi/boot.c");
        file("common/kernel.c");
        file("common/compat/kernel.c");
        file("include/xen/lib.h");
        file("common/bunzip2.c");
        // arch/x86/efi/boot.c is a link made by the build, as in Xen 4.17
        Files.createDirectories(tmp.resolve("xen/arch/x86/efi"));
        Files.createSymbolicLink(tmp.resolve("xen/arch/x86/efi/boot.c"), Path.of("../../../common/efi/boot.c"));
        object("arch/x86/efi/boot.o", "arch/x86/efi/boot.c", "include/xen/lib.h");
        object("common/kernel.o", "common/kernel.c", "include/xen/lib.h");
        object("common/compat/kernel.o", "common/compat/kernel.c", "common/compat/../kernel.c", "/usr/include/stdarg.h");
        object("common/bunzip2.o", "common/bunzip2.c");
        Files.writeString(tmp.resolve("xen/common/bunzip2.init.o"), "obj");
        Files.writeString(tmp.resolve("xen/common/.bunzip2.init.o.cmd"), "cmd_common/bunzip2.init.o := objcopy ... common/bunzip2.o common/bunzip2.init.o\n");
        object("common/built_in.o", "common/kernel.c");
        object("tools/fixdep.o", "common/kernel.c");

        DependencyIndex idx = DependencyIndex.read(tmp);

        assertEquals(Set.of("common/kernel.o", "common/compat/kernel.o"), idx.affectedBy(List.of("xen/common/kernel.c")));
        assertEquals(Set.of("arch/x86/efi/boot.o"), idx.affectedBy(List.of("xen/common/efi/boot.c")));
        assertEquals(Set.of("arch/x86/efi/boot.o", "common/kernel.o"), idx.affectedBy(List.of("xen/include/xen/lib.h")));
        assertEquals(Set.of("common/bunzip2.o", "common/bunzip2.init.o"), idx.affectedBy(List.of("xen/common/bunzip2.c")));
        assertEquals(Set.of(), idx.affectedBy(List.of("README")));
        assertEquals(java.util.Map.of("common/bunzip2.init.o", "common/bunzip2.o"), idx.derived());
    }

    @Test
    void makeEnvironmentDropsVariablesThatPointAwayFromTheCopy() {
        var env = XenMake.environment(java.util.Map.of("PATH", "/bin", "KBUILD_OUTPUT", "/src/out", "KCONFIG_CONFIG", "/src/.config",
                "MAKEFLAGS", "-j8 --jobserver-auth=3,4", "XEN_BUILD_DATE", "today"), BuildStrings.from(java.util.Map.of("XEN_BUILD_DATE", "today")));
        assertEquals("/bin", env.get("PATH"));
        assertEquals("today", env.get("XEN_BUILD_DATE"));
        assertEquals("00:00:00", env.get("XEN_BUILD_TIME"));
        for (String k : List.of("KBUILD_OUTPUT", "KCONFIG_CONFIG", "MAKEFLAGS")) {
            assertEquals(null, env.get(k), k);
        }
    }
}
