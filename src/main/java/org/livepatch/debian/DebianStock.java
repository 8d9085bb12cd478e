package org.livepatch.debian;

import org.livepatch.io.FileTrees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.livepatch.io.IoErrors;
import org.livepatch.xenbuild.BuildException;
import org.livepatch.xenbuild.BuildId;
import org.livepatch.xenbuild.ExternalCommand;
import org.livepatch.xenbuild.SourcePatch;
import org.livepatch.xenbuild.Workspace;
import org.livepatch.xenbuild.XenSyms;

/**
 * Fetches Debian's hypervisor of one version into the cache, once: the source package
 * ({@code apt-get source --download-only}), the hypervisor package and its {@code -dbg} package
 * ({@code apt-get download}, unpacked with {@code dpkg-deb -x}), and the source tree with the
 * series' patches applied by our own applier ({@link SourcePatch}, zero fuzz, as dpkg-source
 * requires of a "3.0 (quilt)" package). apt is used through its ordinary client and whatever
 * configuration the environment gives it (APT_CONFIG selects a private one); nothing under /etc
 * is changed.
 *
 * <p>Layout: {@code $LPB_CACHE/debian/<version>/} with {@code source/} (the .dsc and tarballs),
 * {@code debs/}, {@code stock/} (both packages unpacked), {@code debian/} (the packaging),
 * {@code tree/} (the patched source) and {@code complete}, written last; an entry without it is
 * redone. Entries are built beside their final name and renamed into place.
 */
public final class DebianStock {
    static final String COMPLETE = "complete";

    private DebianStock() {}

    /** The prepared hypervisor of {@code version}, fetched and prepared now unless the cache has it. */
    public static StockHypervisor obtain(DebianVersion version, Workspace ws, Map<String, String> env, Path logDir,
            Consumer<String> notice) throws BuildException, InterruptedException {
        Path dir = ws.root().resolve("debian").resolve(version.fileName());
        try (Workspace.KeyLock lock = ws.lock("debian-" + version.fileName())) {
            if (!Files.isRegularFile(dir.resolve(COMPLETE))) {
                notice.accept("Debian " + version + ": fetching the source, hypervisor and -dbg packages (once; cached in " + dir + ")");
                Path tmp = dir.resolveSibling(".tmp-" + version.fileName() + "-" + ProcessHandle.current().pid());
                FileTrees.delete(tmp);
                FileTrees.delete(dir);
                Files.createDirectories(tmp);
                try {
                    prepare(version, tmp, env, logDir);
                    Files.writeString(tmp.resolve(COMPLETE), version + "\n", StandardCharsets.UTF_8);
                    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                } finally {
                    FileTrees.delete(tmp); // a failed or interrupted preparation leaves nothing behind
                }
            }
            return load(version, dir);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.WORKSPACE, dir, "cannot prepare Debian's packages: " + IoErrors.describe(e), e);
        }
    }

    /** Reads a complete entry. */
    static StockHypervisor load(DebianVersion version, Path dir) throws BuildException, IOException {
        SourceControl dsc = control(dir.resolve("source"), version);
        String pkg = hypervisorPackage(dsc, version, dir);
        Path stock = dir.resolve("stock");
        String series = version.series();
        Path xenSyms = stock.resolve("usr/lib/debug/boot/xen-syms-" + series + "-amd64");
        Path xenGz = stock.resolve("boot/xen-" + series + "-amd64.gz");
        Path config = stock.resolve("boot/xen-" + series + "-amd64.config");
        for (Path p : List.of(xenSyms, xenGz, config)) {
            if (!Files.isRegularFile(p)) {
                throw new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, p,
                        "not in " + pkg + " or " + pkg + "-dbg " + version + " (another file layout than Debian's amd64 packages?)");
            }
        }
        BuildId id = XenSyms.open(xenSyms).buildId().orElseThrow(() -> new BuildException(
                BuildException.Reason.PACKAGE_UNAVAILABLE, xenSyms, "the -dbg package's xen-syms has no GNU build-id"));
        BuildId inXen = gzipBuildId(xenGz);
        if (!inXen.equals(id)) {
            throw new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, xenGz, "build-id " + inXen
                    + " differs from the -dbg package's xen-syms (" + id + "): the two packages are not one build");
        }
        Path debian = dir.resolve("debian");
        DebianRecipe recipe = DebianRecipe.of(version, debian.resolve("changelog"), Files.readString(debian.resolve("changelog"), StandardCharsets.UTF_8),
                debian.resolve("control"), Files.readString(debian.resolve("control"), StandardCharsets.UTF_8));
        return new StockHypervisor(version, pkg, dir.resolve("tree"), config, xenSyms, xenGz, id, recipe);
    }

    private static void prepare(DebianVersion version, Path dir, Map<String, String> env, Path logDir)
            throws BuildException, IOException, InterruptedException {
        Path source = Files.createDirectories(dir.resolve("source"));
        Path log = logDir.resolve("debian-fetch.log");
        apt(List.of("apt-get", "source", "-q", "--download-only", "xen=" + version), source, env, log, version, "the source package xen");
        SourceControl dsc = control(source, version);
        for (var f : dsc.files().entrySet()) {
            Path file = source.resolve(f.getKey());
            String sha = sha256(file);
            if (!sha.equals(f.getValue())) {
                throw new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, file, "SHA-256 " + sha + " is not the .dsc's " + f.getValue());
            }
        }
        String pkg = hypervisorPackage(dsc, version, source);
        Path debs = Files.createDirectories(dir.resolve("debs"));
        apt(List.of("apt-get", "download", "-q", pkg + "=" + version, pkg + "-dbg=" + version), debs, env, log, version,
                pkg + " and " + pkg + "-dbg");
        Path stock = Files.createDirectories(dir.resolve("stock"));
        try (Stream<Path> s = Files.list(debs)) {
            for (Path deb : s.filter(p -> p.toString().endsWith(".deb")).sorted().toList()) {
                run(List.of("dpkg-deb", "-x", deb.toString(), stock.toString()), dir, env, log, "unpacking " + deb.getFileName());
            }
        }
        String orig = dsc.file(".orig").orElseThrow(() -> new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE,
                source, "the .dsc names no .orig tarball"));
        String packaging = dsc.file(".debian").orElseThrow(() -> new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE,
                source, "the .dsc names no .debian tarball (not a \"3.0 (quilt)\" package)"));
        Path tree = Files.createDirectories(dir.resolve("tree"));
        run(List.of("tar", "-xf", source.resolve(orig).toString(), "-C", tree.toString(), "--strip-components=1", "--no-same-owner"),
                dir, env, log, "unpacking " + orig);
        run(List.of("tar", "-xf", source.resolve(packaging).toString(), "-C", dir.toString(), "--no-same-owner"),
                dir, env, log, "unpacking " + packaging);
        Path patches = dir.resolve("debian/patches");
        Path seriesFile = patches.resolve("series");
        if (Files.isRegularFile(seriesFile)) {
            QuiltSeries series = QuiltSeries.parse(seriesFile, Files.readString(seriesFile, StandardCharsets.ISO_8859_1));
            for (String p : series.patches()) {
                SourcePatch.parse(patches.resolve(p)).applyInPlace(tree);
            }
        }
        // tools/scmversion prints nothing for a tree without .git (what Debian builds from, with
        // GIT=/bin/false), so the shipped changeset string is empty; an empty .scmversion says the
        // same and keeps the reference cache from pinning its own placeholder.
        Files.writeString(tree.resolve(".scmversion"), "", StandardCharsets.UTF_8);
    }

    private static SourceControl control(Path source, DebianVersion version) throws BuildException, IOException {
        Path dsc = source.resolve("xen_" + version.upstream() + "-" + version.revision() + ".dsc");
        if (!Files.isRegularFile(dsc)) {
            throw new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, dsc, "apt-get source did not leave this file");
        }
        SourceControl c = SourceControl.parse(dsc, Files.readString(dsc, StandardCharsets.UTF_8));
        if (!c.source().equals("xen") || !c.version().equals(version.toString())) {
            throw new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, dsc,
                    "is " + c.source() + " " + c.version() + ", not xen " + version);
        }
        return c;
    }

    /** The amd64 hypervisor package the source builds, and its -dbg package, both named in {@code Binary:}. */
    static String hypervisorPackage(SourceControl dsc, DebianVersion version, Path where) throws BuildException {
        String pkg = "xen-hypervisor-" + version.series() + "-amd64";
        if (!dsc.binaries().contains(pkg) || !dsc.binaries().contains(pkg + "-dbg")) {
            throw new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, where,
                    "the source package xen " + version + " does not build " + pkg + " and " + pkg + "-dbg");
        }
        return pkg;
    }

    /**
     * Runs apt; a failure becomes one line with apt's own error and what to do: a version apt does
     * not know, or no deb-src entry (which only the administrator may add).
     */
    private static void apt(List<String> argv, Path dir, Map<String, String> env, Path log, DebianVersion version, String what)
            throws BuildException, IOException, InterruptedException {
        long before = Files.exists(log) ? Files.size(log) : 0;
        int rc = new ExternalCommand(argv, dir, env).run(log);
        if (rc == 0) {
            return;
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        String error = out.substring((int) Math.min(before, out.length())).lines()
                .filter(l -> l.startsWith("E: ")).findFirst().orElse("exit " + rc).replaceFirst("^E: ", "");
        String hint;
        if (error.contains("deb-src")) {
            hint = "apt has no deb-src entry: add 'deb-src' to the Types: line of /etc/apt/sources.list.d/debian.sources"
                    + " (or a 'deb-src' line beside each 'deb' line of /etc/apt/sources.list), run 'apt-get update',"
                    + " or point APT_CONFIG at a private apt configuration that has one";
        } else if (error.contains("find") || error.contains("not found") || error.contains("Version")) {
            hint = "apt does not know version " + version + " (" + what + "; 'apt-cache showsrc xen' lists the versions"
                    + " it knows; 'apt-get update' may be needed)";
        } else {
            hint = "fetching " + what + " " + version + " failed";
        }
        throw new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, null,
                "--debian " + version + ": " + hint + ": " + error + " (log: " + log + ")");
    }

    private static void run(List<String> argv, Path dir, Map<String, String> env, Path log, String what)
            throws BuildException, IOException, InterruptedException {
        int rc = new ExternalCommand(argv, dir, env).run(log);
        if (rc != 0) {
            throw new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, log, what + " failed (exit " + rc + ")");
        }
    }

    /**
     * The GNU build-id note in a gzip-compressed hypervisor image ({@code xen.gz}: a 32-bit ELF
     * wrapper around the 64-bit image, which our ELF reader does not model): the note's header
     * (name size 4, descriptor size 20, type NT_GNU_BUILD_ID) and "GNU\0" precede the 20 bytes.
     */
    static BuildId gzipBuildId(Path gz) throws BuildException, IOException {
        byte[] data;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            data = in.readNBytes(256 << 20);
        }
        Optional<BuildId> id = noteBuildId(data);
        return id.orElseThrow(() -> new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, gz, "no GNU build-id note in the image"));
    }

    static Optional<BuildId> noteBuildId(byte[] data) {
        byte[] header = {4, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0};
        outer:
        for (int i = 0; i + header.length + 20 <= data.length; i++) {
            for (int j = 0; j < header.length; j++) {
                if (data[i + j] != header[j]) {
                    continue outer;
                }
            }
            byte[] id = java.util.Arrays.copyOfRange(data, i + header.length, i + header.length + 20);
            return Optional.of(new BuildId(HexFormat.of().formatHex(id)));
        }
        return Optional.empty();
    }

    private static String sha256(Path file) throws IOException {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
