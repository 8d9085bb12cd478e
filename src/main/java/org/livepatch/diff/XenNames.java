package org.livepatch.diff;

import org.livepatch.elf.Symbol;

/**
 * Xen's run-time names for symbols. {@code xen/tools/symbols} (built with {@code --all-symbols}
 * when CONFIG_LIVEPATCH=y) prefixes every local symbol with the STT_FILE name it follows and
 * {@code #}, e.g. {@code common/version.c#build_id_p}; globals keep their plain name. The
 * hypervisor resolves a payload's undefined symbols and its funcs' names against that table.
 */
final class XenNames {
    private XenNames() {}

    static String of(Symbol s, String file) {
        return of(s.name(), s.isLocal(), file);
    }

    static String of(String name, boolean local, String file) {
        if (local && file != null && !file.isEmpty()) {
            return file + "#" + name;
        }
        return name;
    }

    /**
     * The name without GCC's numeric clone and static-local suffixes ({@code count.0} → {@code count},
     * {@code foo.isra.0} → {@code foo.isra}), which change whenever the numbering of a file shifts.
     */
    static String stripNumbers(String name) {
        return name.replaceAll("\\.[0-9]+(?=\\.|$)", "");
    }

    static boolean hasNumberSuffix(String name) {
        return !stripNumbers(name).equals(name);
    }

    /** GCC's out-of-line cold part of a function: {@code foo.cold} or {@code foo.cold.3}. */
    static String coldParent(String name) {
        int i = name.indexOf(".cold");
        if (i <= 0) {
            return null;
        }
        String rest = name.substring(i + 5);
        return rest.isEmpty() || rest.matches("\\.[0-9]+") ? name.substring(0, i) : null;
    }

    /** Xen's per-CPU sections: {@code DEFINE_PER_CPU} and its variants (xen/include/xen/percpu.h). */
    static boolean isPerCpuSection(String section) {
        return section.startsWith(".bss.percpu") || section.startsWith(".data.percpu");
    }

    /** The name a per-CPU variable has in C: {@code DEFINE_PER_CPU(t, v)} defines symbol {@code per_cpu__v}. */
    static String perCpuName(String symbol) {
        return symbol.startsWith("per_cpu__") ? symbol.substring("per_cpu__".length()) : symbol;
    }
}
