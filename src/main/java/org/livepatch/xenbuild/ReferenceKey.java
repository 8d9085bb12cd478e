package org.livepatch.xenbuild;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a reference build depends on, and the cache key made from it: the source content, the
 * config, the compiler and linker (their --version lines), the pinned build strings, the make
 * arguments and the environment variables Xen's build reads for flags. Two requests with equal
 * inputs get the same objects, so the second reuses the first's build.
 *
 * @param inputs every input by name, in sorted order (written next to the build for humans)
 */
public record ReferenceKey(String hex, Map<String, String> inputs) {

    /** Environment variables that change Xen's compile commands (Config.mk, xen/Makefile). */
    static final List<String> BUILD_ENV = List.of("CROSS_COMPILE", "CC", "LD", "OBJCOPY", "CFLAGS", "LDFLAGS",
            "EXTRA_CFLAGS_XEN_CORE", "XEN_TARGET_ARCH", "XEN_COMPILE_ARCH", "clang", "llvm", "debug", "XEN_EXTRAVERSION",
            "XEN_VENDORVERSION", "PYTHON", "HOSTCC",
            // Debian's banner patch writes DEB_* into compile.h (xen/build.mk: cmd_compile.h);
            // xen/arch/x86/Makefile reads SOURCE_DATE_EPOCH for xen.efi's time stamp. Unset in most
            // builds, and an unset variable adds nothing to the key.
            "DEB_VERSION", "DEB_MAINTAINER", "SOURCE_DATE_EPOCH");

    public ReferenceKey {
        inputs = java.util.Collections.unmodifiableMap(new TreeMap<>(inputs));
    }

    public static ReferenceKey of(String sourceDigest, XenConfig config, Toolchain tools, BuildStrings strings,
            List<String> makeArgs, Map<String, String> env) {
        return of(sourceDigest, config, tools, strings, makeArgs, env, null);
    }

    /**
     * With {@code reproduce}, the stock build-id the entry must reproduce is an input too: an
     * entry made for a proof is never taken for an ordinary reference of the same tree, or the
     * reverse.
     */
    public static ReferenceKey of(String sourceDigest, XenConfig config, Toolchain tools, BuildStrings strings,
            List<String> makeArgs, Map<String, String> env, ReproductionTarget reproduce) {
        Map<String, String> in = new TreeMap<>();
        if (reproduce != null) {
            in.put("reproduce.build-id", reproduce.stockBuildId().hex());
        }
        in.put("source.sha256", sourceDigest);
        in.put("config.sha256", sha256(config.content()));
        in.put("gcc", tools.gccVersion());
        in.put("ld", tools.ldVersion());
        in.put("build.date", strings.date());
        in.put("build.time", strings.time());
        in.put("build.whoami", strings.whoami());
        in.put("build.domain", strings.domain());
        in.put("build.host", strings.host());
        in.put("make.args", String.join(" ", makeArgs));
        for (String k : BUILD_ENV) {
            if (env.containsKey(k)) {
                in.put("env." + k, env.get(k));
            }
        }
        return fromInputs(in);
    }

    /**
     * The key of these inputs: what {@link #of} computes, and what an imported archive's
     * recorded inputs are checked against ({@link ReferenceArchive}), so its key cannot name other inputs.
     */
    public static ReferenceKey fromInputs(Map<String, String> inputs) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(inputs).forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        // 32 hex digits (128 bits) keep directory names short; collisions are not a practical risk.
        String hex = sha256(sb.toString().getBytes(StandardCharsets.UTF_8)).substring(0, 32);
        return new ReferenceKey(hex, inputs);
    }

    static String sha256(byte[] data) {
        MessageDigest md = SourceTree.sha256();
        return HexFormat.of().formatHex(md.digest(data));
    }
}
