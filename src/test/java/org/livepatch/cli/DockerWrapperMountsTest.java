package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.pipeline.BatchRun;
import org.livepatch.testsupport.Tools;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The Docker wrapper ({@code toolchain-docker/livepatch-build}) mounts every path option of
 * {@link LivepatchBuildCommand}. Walks the picocli model: for each option whose value is a path
 * (typed Path or File, or marked {@link HostPath}), runs the wrapper in every option form with a
 * fake {@code docker} on PATH (no engine: it answers {@code image inspect} with the label
 * build-image writes, and records {@code docker run}'s arguments), then checks from the recorded
 * mounts that the value the container receives names the same file at the same place, read-only
 * unless the run writes there. A path option added to the command without the wrapper mounting it
 * fails here: either {@link OptionTable} refuses it, or the mount check finds it invisible.
 */
class DockerWrapperMountsTest {
    private static final Path WRAPPER = Tools.repoRoot().resolve("toolchain-docker/livepatch-build");
    private static final String LAUNCHER = "/opt/livepatch-build/livepatch-build";

    private static CommandSpec model() {
        return new CommandLine(new LivepatchBuildCommand()).getCommandSpec();
    }

    /** Path-ness read from the model directly (the type, or the annotation), not through OptionTable. */
    private static boolean isPathOption(OptionSpec o) {
        List<Class<?>> types = new ArrayList<>(Arrays.asList(o.auxiliaryTypes()));
        types.add(o.type());
        for (Class<?> t : types) {
            Class<?> c = t.isArray() ? t.getComponentType() : t;
            if (Path.class.isAssignableFrom(c) || File.class.isAssignableFrom(c)) {
                return true;
            }
        }
        return use(o) != null;
    }

    private static HostPath.Use use(OptionSpec o) {
        return o.userObject() instanceof Field f && f.getAnnotation(HostPath.class) != null
                ? f.getAnnotation(HostPath.class).value() : null;
    }

    @Test
    void theModelHasPathOptionsIncludingBatch() {
        List<String> paths = model().options().stream().filter(DockerWrapperMountsTest::isPathOption)
                .map(OptionSpec::longestName).toList();
        // Not the expected set (that would be a copy of the model): only that the walk finds what
        // the issue named, so the test below cannot pass by walking nothing.
        assertTrue(paths.contains("--batch") && paths.contains("--srcdir") && paths.contains("--output"), paths.toString());
    }

    @Test
    void everyPathOptionIsVisibleInTheContainerInEveryForm(@TempDir Path tmp) throws Exception {
        Fake docker = new Fake(tmp, OptionTable.of(model()).format());
        List<String> problems = checkAllPathOptions(docker, model());
        assertEquals(List.of(), problems);
    }

    /** The check can fail: with --batch left out of the image's table, it says --batch is not mounted. */
    @Test
    void aTableWithoutAnOptionIsCaught(@TempDir Path tmp) throws Exception {
        String table = Arrays.stream(OptionTable.of(model()).format().split(" "))
                .filter(e -> !e.startsWith("--batch:")).collect(Collectors.joining(" "));
        List<String> problems = checkAllPathOptions(new Fake(tmp, table), model());
        assertFalse(problems.isEmpty());
        assertTrue(problems.stream().allMatch(p -> p.startsWith("--batch")), problems.toString());
    }

    @Test
    void aBatchListsPatchesAreVisibleWhereTheContainerLooksForThem(@TempDir Path tmp) throws Exception {
        Fake docker = new Fake(tmp, OptionTable.of(model()).format());
        Path lists = Files.createDirectories(tmp.resolve("w/lists"));
        Path near = Files.writeString(lists.resolve("near.patch"), "");
        Path away = Files.writeString(Files.createDirectories(tmp.resolve("w/elsewhere")).resolve("away.diff"), "");
        Path list = lists.resolve("batch.list");
        Files.writeString(list, "# patches\n  near.patch  \n\n" + away + "\n../elsewhere/away.diff\n");
        checkList(docker, list, "--batch");

        // A patch under /var: the container sees it under /lpb-host, so the list it reads must say so.
        Path varTmp = Path.of("/var/tmp");
        if (Files.isDirectory(varTmp) && Files.isWritable(varTmp)) {
            Path sys = Files.createTempDirectory(varTmp, "lpb-wrapper-test");
            try {
                Path sysPatch = Files.writeString(sys.resolve("sys.patch"), "");
                Files.writeString(list, "near.patch\n" + sysPatch + "\n");
                checkList(docker, list, "--batch");
                Path sysList = Files.writeString(sys.resolve("in-var.list"), "sys.patch\n" + near + "\n");
                checkList(docker, sysList, "--batch");
            } finally {
                try (var s = Files.walk(sys)) {
                    s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    @Test
    void anUnmarkedPathOptionIsRefusedByTheTable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OptionTable.of(new CommandLine(new Unmarked()).getCommandSpec()));
        assertTrue(e.getMessage().contains("--extra-file") && e.getMessage().contains("@HostPath"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> OptionTable.of(new CommandLine(new PathParameter()).getCommandSpec()));
        assertTrue(e.getMessage().contains("positional"), e.getMessage());
    }

    @Test
    void buildImageWritesTheLabelTheWrapperReads() throws IOException {
        String buildImage = Files.readString(Tools.repoRoot().resolve("toolchain-docker/build-image"));
        assertTrue(buildImage.contains(OptionTable.class.getName()), "build-image runs " + OptionTable.class.getName());
        assertTrue(buildImage.contains("--label \"org.livepatch-build.options="), "build-image writes the label");
        assertTrue(Files.readString(WRAPPER).contains("\"org.livepatch-build.options\""), "the wrapper reads the label");
    }

    @Command(name = "unmarked")
    static final class Unmarked {
        @Option(names = "--extra-file")
        Path extra;
    }

    @Command(name = "positional")
    static final class PathParameter {
        @Parameters(paramLabel = "FILE")
        Path file;
    }

    // --- the check ---------------------------------------------------------------------------

    /** One problem line per path option and form whose value the container would not see. */
    private static List<String> checkAllPathOptions(Fake docker, CommandSpec spec) throws Exception {
        String shortFlag = shortFlag(spec);
        List<String> problems = new ArrayList<>();
        int n = 0;
        for (OptionSpec o : spec.options()) {
            if (!isPathOption(o)) {
                continue;
            }
            if (use(o) == HostPath.Use.OUTPUT_FILE) {
                // A file the run creates: its directory is mounted read-write, and created when missing.
                for (String name : o.names()) {
                    for (Form form : Form.forName(name, shortFlag)) {
                        Path dir = Files.createDirectories(docker.work.resolve("v" + (n++) + "/a dir"));
                        problems.addAll(docker.check(o, name, form, dir.resolve("new.file"), true, true));
                    }
                    Path missing = docker.work.resolve("v" + (n++) + "/new/out.file");
                    problems.addAll(docker.check(o, name, Form.SEPARATE, missing, true, true));
                    if (!Files.isDirectory(missing.getParent())) {
                        problems.add(o.longestName() + ": the directory of " + missing + " was not created");
                    }
                }
                continue;
            }
            boolean writes = use(o) == HostPath.Use.OUTPUT_DIR;
            for (String name : o.names()) {
                for (Form form : Form.forName(name, shortFlag)) {
                    Path dir = Files.createDirectories(docker.work.resolve("v" + (n++) + "/a dir"));
                    Files.writeString(dir.resolve("x.patch"), "");
                    problems.addAll(docker.check(o, name, form, dir, writes, true));
                }
                if (!writes) {
                    Path file = Files.writeString(Files.createDirectories(docker.work.resolve("v" + (n++))).resolve("in.diff"), "");
                    problems.addAll(docker.check(o, name, Form.SEPARATE, file, false, true));
                } else {
                    // A missing output directory: created, then mounted read-write.
                    Path missing = docker.work.resolve("v" + (n++) + "/new/out");
                    problems.addAll(docker.check(o, name, Form.SEPARATE, missing, true, false));
                }
            }
        }
        return problems;
    }

    /** A short flag to put before a short path option in a cluster ({@code -do DIR}), if the command has one. */
    private static String shortFlag(CommandSpec spec) {
        return spec.options().stream()
                .filter(o -> o.arity().max() == 0 && !o.usageHelp() && !o.versionHelp())
                .flatMap(o -> Arrays.stream(o.names())).filter(n -> n.length() == 2).findFirst().orElse(null);
    }

    private static void checkList(Fake docker, Path list, String option) throws Exception {
        Run r = docker.run(List.of(option, list.toString()));
        String seenList = r.inner().get(r.inner().indexOf(option) + 1);
        Path hostList = r.hostOf(seenList);
        assertTrue(hostList != null && Files.isRegularFile(hostList), "the container sees a list at " + seenList + ": " + r.args);
        // What the pipeline will read, resolved on the host by the pipeline's own reader...
        List<Path> wanted = BatchRun.patches(list);
        // ...and where the container finds each: the list it receives, resolved against its place there.
        List<String> lines = Files.readAllLines(hostList, StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertEquals(wanted.size(), lines.size(), "the list the container reads names as many patches: " + lines);
        Path ctrBase = Path.of(seenList).getParent();
        for (int i = 0; i < lines.size(); i++) {
            String ctrPatch = ctrBase.resolve(lines.get(i)).normalize().toString();
            assertEquals(wanted.get(i), r.hostOf(ctrPatch), "patch " + wanted.get(i) + " seen in the container at " + ctrPatch + ": " + r.args);
            assertTrue(r.readOnly(ctrPatch), "read-only: " + ctrPatch);
        }
    }

    /** The ways picocli accepts an option's value. */
    enum Form {
        SEPARATE, LONG_EQUALS, SHORT_ATTACHED, SHORT_EQUALS, CLUSTER;

        static List<Form> forName(String name, String shortFlag) {
            if (name.startsWith("--")) {
                return List.of(SEPARATE, LONG_EQUALS);
            }
            List<Form> l = new ArrayList<>(List.of(SEPARATE, SHORT_ATTACHED, SHORT_EQUALS));
            if (shortFlag != null) {
                l.add(CLUSTER);
            }
            return l;
        }

        /** The arguments for NAME VALUE in this form (CLUSTER: the flag's letter first). */
        List<String> args(String name, String value, String shortFlag) {
            return switch (this) {
                case SEPARATE -> List.of(name, value);
                case LONG_EQUALS, SHORT_EQUALS -> List.of(name + "=" + value);
                case SHORT_ATTACHED -> List.of(name + value);
                case CLUSTER -> List.of(shortFlag + name.substring(1) + value);
            };
        }

        /** The value the container receives, read back from the rewritten arguments. */
        String valueIn(List<String> inner, List<String> sent) {
            String first = sent.get(0);
            return switch (this) {
                case SEPARATE -> inner.get(inner.indexOf(first) + 1);
                case LONG_EQUALS, SHORT_EQUALS -> valueAfterPrefix(inner, first.substring(0, first.indexOf('=') + 1));
                case SHORT_ATTACHED -> valueAfterPrefix(inner, first.substring(0, 2));
                case CLUSTER -> valueAfterPrefix(inner, first.substring(0, 3));
            };
        }

        private static String valueAfterPrefix(List<String> inner, String prefix) {
            return inner.stream().filter(a -> a.startsWith(prefix)).findFirst().map(a -> a.substring(prefix.length())).orElse(null);
        }
    }

    /** A bind mount from the recorded {@code docker run}. */
    record Mount(String source, String target, boolean readOnly) {}

    /** The recorded {@code docker run}: its arguments, its mounts, and the launcher's arguments. */
    record Run(List<String> args, List<Mount> mounts, List<String> inner, Path homeAtRun) {
        /** The host file the container sees at {@code ctr}, through the deepest mount covering it. */
        Path hostOf(String ctr) {
            Mount best = cover(ctr);
            if (best == null) {
                return null;
            }
            String host = best.source() + ctr.substring(best.target().length());
            // HOME's mount: the fake docker kept a copy as it was during the run.
            if (best.target().equals("/lpb-home")) {
                host = homeAtRun + ctr.substring(best.target().length());
            }
            return Path.of(host);
        }

        boolean readOnly(String ctr) {
            Mount m = cover(ctr);
            return m != null && m.readOnly();
        }

        private Mount cover(String ctr) {
            Mount best = null;
            for (Mount m : mounts) {
                if ((ctr.equals(m.target()) || ctr.startsWith(m.target() + "/"))
                        && (best == null || m.target().length() > best.target().length())) {
                    best = m;
                }
            }
            return best;
        }
    }

    /** A fake docker on PATH and a working directory to run the wrapper in. */
    static final class Fake {
        final Path bin;
        final Path work;
        final Path record;
        final Path home;
        final String table;

        Fake(Path tmp, String table) throws IOException {
            this.table = table;
            bin = Files.createDirectories(tmp.resolve("bin"));
            work = Files.createDirectories(tmp.resolve("w"));
            record = tmp.resolve("record");
            home = tmp.resolve("home");
            Path docker = bin.resolve("docker");
            Files.writeString(docker, """
                    #!/bin/bash
                    # A fake docker: enough for toolchain-docker/livepatch-build, no engine.
                    case "$1" in
                        version) exit 0 ;;
                        image) [ "$2" = inspect ] && printf 'livepatch-build\\n%s\\n' "$FAKE_OPTIONS_LABEL" ;;
                        run) rm -rf "$FAKE_RECORD"; mkdir -p "$FAKE_RECORD"
                             printf '%s\\0' "$@" >"$FAKE_RECORD/args"
                             cp -a "$LPB_DOCKER_HOME" "$FAKE_RECORD/home" ;;
                        *) exit 2 ;;
                    esac
                    """);
            Files.setPosixFilePermissions(docker, PosixFilePermissions.fromString("rwxr-xr-x"));
        }

        Run run(List<String> wrapperArgs) throws IOException, InterruptedException {
            List<String> cmd = new ArrayList<>(List.of("bash", WRAPPER.toString()));
            cmd.addAll(wrapperArgs);
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true);
            Map<String, String> env = pb.environment();
            env.put("PATH", bin + ":" + env.getOrDefault("PATH", "/usr/bin:/bin"));
            env.put("LPB_DOCKER_HOME", home.toString());
            env.put("LPB_IMAGE", "fake-image");
            env.put("FAKE_OPTIONS_LABEL", table);
            env.put("FAKE_RECORD", record.toString());
            env.remove("LPB_DOCKER_DRY_RUN");
            env.remove("LPB_DOCKER_COMMAND");
            Process p = pb.start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "wrapper finished");
            assertEquals(0, p.exitValue(), "wrapper " + wrapperArgs + ": " + output);
            List<String> args = List.of(Files.readString(record.resolve("args")).split("\0"));
            List<Mount> mounts = new ArrayList<>();
            for (int i = 0; i + 1 < args.size(); i++) {
                if (args.get(i).equals("--mount")) {
                    mounts.add(parseMount(args.get(i + 1)));
                }
            }
            int l = args.indexOf(LAUNCHER);
            assertTrue(l > 0, "docker run ... " + LAUNCHER + ": " + args);
            return new Run(args, mounts, args.subList(l + 1, args.size()), record.resolve("home"));
        }

        /** {@code type=bind,"source=S","target=T"[,readonly]}, CSV with doubled quotes. */
        private static Mount parseMount(String spec) {
            List<String> fields = new ArrayList<>();
            StringBuilder cur = new StringBuilder();
            boolean quoted = false;
            for (int i = 0; i < spec.length(); i++) {
                char c = spec.charAt(i);
                if (c == '"') {
                    if (quoted && i + 1 < spec.length() && spec.charAt(i + 1) == '"') {
                        cur.append('"');
                        i++;
                    } else {
                        quoted = !quoted;
                    }
                } else if (c == ',' && !quoted) {
                    fields.add(cur.toString());
                    cur.setLength(0);
                } else {
                    cur.append(c);
                }
            }
            fields.add(cur.toString());
            String source = null;
            String target = null;
            boolean ro = false;
            for (String f : fields) {
                if (f.startsWith("source=")) {
                    source = f.substring(7);
                } else if (f.startsWith("target=")) {
                    target = f.substring(7);
                } else if (f.equals("readonly")) {
                    ro = true;
                }
            }
            return new Mount(source, target, ro);
        }

        /**
         * Runs the wrapper with OPTION VALUE in FORM and returns what is wrong (empty: the container
         * gets the host's absolute path, and a mount shows that very path there, read-only unless
         * WRITES). MUST_EXIST: the value exists before the run (else the wrapper must create it).
         */
        List<String> check(OptionSpec o, String name, Form form, Path value, boolean writes, boolean mustExist)
                throws IOException, InterruptedException {
            String shortFlag = shortFlag(model());
            // The separate form passes the value relative to the working directory, the others absolute.
            String given = form == Form.SEPARATE && value.startsWith(work) ? work.relativize(value).toString() : value.toString();
            List<String> sent = form.args(name, given, shortFlag);
            Run r = run(sent);
            String what = o.longestName() + " as " + String.join(" ", sent);
            String seen = form.valueIn(r.inner(), sent);
            List<String> problems = new ArrayList<>();
            if (!value.toString().equals(seen)) {
                problems.add(what + ": the container gets " + seen + ", not " + value);
                return problems;
            }
            if (!mustExist && !Files.isDirectory(value)) {
                problems.add(what + ": " + value + " was not created");
            }
            Path host = r.hostOf(seen);
            if (!value.equals(host)) {
                problems.add(what + ": at " + seen + " the container sees " + (host == null ? "nothing" : "host " + host));
            } else if (r.readOnly(seen) == writes) {
                problems.add(what + ": mounted " + (writes ? "read-only" : "read-write") + " at " + seen);
            }
            return problems;
        }
    }
}
