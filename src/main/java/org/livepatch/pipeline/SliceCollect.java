package org.livepatch.pipeline;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.livepatch.io.JsonReader;
import org.livepatch.xenbuild.BuildException;
import org.livepatch.xenbuild.RequestChecks;

/**
 * {@code livepatch-build --collect DIR... -o OUT}: merges the OUTPUT directories of the N
 * {@code --slice I/N} runs of one series (N CI jobs) into what the whole run would have written:
 * {@code OUT/<name>/} of every changeset, {@code OUT/batch.json} and the one table, with the
 * series' verdict (first unpatchable changeset, ships-through) computed over all rows.
 *
 * <p>It reads the slices' {@code batch.json} (with {@link JsonReader}: the file is the one record
 * of a slice, so reading it avoids a second format that could disagree with it). Before anything
 * is copied it checks the parts are slices 1..N of one series: the same changesets with the same
 * patch digests in the same order, the same exclusions, the same N, each I once; and that a slice
 * agrees with the earlier slices on the status of every changeset both built (each later slice
 * rebuilds the earlier ones to carry the series; a difference means the runners did not build
 * alike, e.g. another toolchain, and the merged table would lie).
 */
public final class SliceCollect {
    private SliceCollect() {}

    /** @param merged the whole series' result, as {@code OUT/batch.json} records it */
    public record Result(CumulativeRun.Result merged) {}

    private record Part(Path dir, int index, int count, int firstRow, List<Object> series, List<Object> exclusions,
            List<Map<?, ?>> rows) {}

    public static Result run(List<Path> dirs, Path out) throws BuildException {
        out = out.toAbsolutePath().normalize();
        RequestChecks.requireEmptyOutput(out);
        List<Part> parts = new ArrayList<>();
        for (Path d : dirs) {
            for (Path p : partsOf(d)) {
                parts.add(read(p));
            }
        }
        Part first = parts.get(0);
        Map<Integer, Part> byIndex = new TreeMap<>();
        for (Part p : parts) {
            if (!p.series().equals(first.series())) {
                throw mismatch(p.dir(), "another series than " + first.dir() + " (changeset names, order or patch contents differ)");
            }
            if (!p.exclusions().equals(first.exclusions())) {
                throw mismatch(p.dir(), "other exclusions than " + first.dir() + ": " + p.exclusions() + " vs " + first.exclusions());
            }
            if (p.count() != first.count()) {
                throw mismatch(p.dir(), "slice " + p.index() + "/" + p.count() + " beside " + first.index() + "/" + first.count()
                        + " of " + first.dir());
            }
            Part twice = byIndex.put(p.index(), p);
            if (twice != null) {
                throw mismatch(p.dir(), "slice " + p.index() + "/" + p.count() + " is also " + twice.dir());
            }
        }
        for (int i = 1; i <= first.count(); i++) {
            if (!byIndex.containsKey(i)) {
                throw mismatch(null, "slice " + i + "/" + first.count() + " is missing (given: "
                        + byIndex.values().stream().map(p -> p.index() + "/" + p.count() + " " + p.dir()).toList() + ")");
            }
        }
        int size = first.series().size();
        CumulativeRun.Slice shape = new CumulativeRun.Slice(1, first.count());
        // Row k comes from the slice that owns it; every other slice that built it must agree.
        List<Map<?, ?>> owned = new ArrayList<>();
        List<Path> ownerDirs = new ArrayList<>();
        for (int k = 0; k < size; k++) {
            Part owner = byIndex.get(shape.owner(k, size));
            Map<?, ?> row = rowAt(owner, k);
            owned.add(row);
            ownerDirs.add(owner.dir());
            for (Part p : byIndex.values()) {
                if (p != owner && k < p.rows().size() && !p.rows().get(k).get("status").equals(row.get("status"))) {
                    throw mismatch(p.dir(), "changeset " + row.get("name") + " is " + p.rows().get(k).get("status") + " there but "
                            + row.get("status") + " in slice " + owner.index() + " (" + owner.dir() + "): the runners did not build alike");
                }
            }
        }

        List<CumulativeRun.Row> rows = new ArrayList<>();
        CumulativeRun.Row refused = null;
        List<String> excluded = new ArrayList<>();
        try {
            Files.createDirectories(out);
            for (int k = 0; k < size; k++) {
                CumulativeRun.Row r = toRow(ownerDirs.get(k), owned.get(k), out);
                Path from = ownerDirs.get(k).resolve(r.name());
                if (Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
                    copyTree(from, out.resolve(r.name()));
                }
                rows.add(r);
                if (r.status() == CumulativeRun.Status.REFUSED && refused == null) {
                    refused = r;
                }
                if (r.status() == CumulativeRun.Status.EXCLUDED) {
                    excluded.add(r.name());
                }
            }
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, out, "cannot copy a slice's output: " + e.getMessage(), e);
        }
        CumulativeRun.Result merged = new CumulativeRun.Result(rows, Optional.ofNullable(refused), excluded, out.resolve("batch.json"));
        CumulativeRun.writeSummary(merged.summary(), merged, Optional.empty());
        return new Result(merged);
    }

    /** A DIR is a slice's OUTPUT (it has batch.json) or holds them one level down, in name order. */
    private static List<Path> partsOf(Path d) throws BuildException {
        if (!Files.isDirectory(d)) {
            throw new BuildException(BuildException.Reason.SLICE_PART, d, "not a directory");
        }
        if (Files.exists(d.resolve("batch.json"))) {
            return List.of(d);
        }
        try (Stream<Path> s = Files.list(d)) {
            List<Path> sub = s.filter(p -> Files.exists(p.resolve("batch.json"))).sorted().toList();
            if (sub.isEmpty()) {
                throw new BuildException(BuildException.Reason.SLICE_PART, d,
                        "holds no batch.json, nor do its subdirectories (not the OUTPUT of a --slice run)");
            }
            return sub;
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.SLICE_PART, d, "cannot list: " + e.getMessage(), e);
        }
    }

    private static Part read(Path dir) throws BuildException {
        Path f = dir.resolve("batch.json");
        try {
            Map<?, ?> top = map(JsonReader.read(Files.readString(f, StandardCharsets.UTF_8)), "the file");
            if (!"cumulative".equals(top.get("mode")) || !(top.get("slice") instanceof Map<?, ?> sl)) {
                throw new JsonReader.Malformed("not the summary of a --cumulative --slice run");
            }
            List<Map<?, ?>> rows = new ArrayList<>();
            for (Object o : list(top.get("patches"), "patches")) {
                Map<?, ?> r = map(o, "a row");
                for (String key : List.of("name", "status", "message", "changeset")) {
                    if (!(r.get(key) instanceof String)) {
                        throw new JsonReader.Malformed("a row has no string \"" + key + "\"");
                    }
                }
                if (CumulativeRun.Status.of((String) r.get("status")).isEmpty()) {
                    throw new JsonReader.Malformed("unknown status " + r.get("status"));
                }
                rows.add(r);
            }
            List<Object> series = list(top.get("series"), "series");
            int count = number(sl.get("count"), "slice.count");
            int index = number(sl.get("index"), "slice.index");
            int firstRow = number(sl.get("first_row"), "slice.first_row");
            if (count < 1 || index < 1 || index > count || count > series.size() || rows.size() > series.size()
                    || firstRow != new CumulativeRun.Slice(index, count).from(series.size())
                    || rows.size() != new CumulativeRun.Slice(index, count).to(series.size())) {
                throw new JsonReader.Malformed("slice " + index + "/" + count + " with " + rows.size() + " rows of a series of "
                        + series.size() + " does not add up");
            }
            for (int k = 0; k < rows.size(); k++) {
                if (!rows.get(k).get("name").equals(map(series.get(k), "series entry").get("name"))) {
                    throw new JsonReader.Malformed("row " + (k + 1) + " is not the series' changeset " + (k + 1));
                }
            }
            return new Part(dir.toAbsolutePath().normalize(), index, count, firstRow, series, list(top.get("exclusions"), "exclusions"), rows);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.SLICE_PART, f, "cannot read: " + e.getMessage(), e);
        } catch (JsonReader.Malformed e) {
            throw new BuildException(BuildException.Reason.SLICE_PART, f, e.getMessage(), e);
        }
    }

    private static Map<?, ?> rowAt(Part p, int k) throws BuildException {
        Map<?, ?> row = p.rows().get(k);
        if (!Integer.valueOf(p.index()).equals(row.get("slice") instanceof BigDecimal b ? b.intValue() : null)) {
            throw new BuildException(BuildException.Reason.SLICE_PART, p.dir().resolve("batch.json"),
                    "row " + row.get("name") + " is not marked as slice " + p.index() + "'s own");
        }
        return row;
    }

    /** The merged row: the owner's, its payload at its new place. */
    private static CumulativeRun.Row toRow(Path partDir, Map<?, ?> r, Path out) throws BuildException {
        try {
            String name = (String) r.get("name");
            Object payload = r.get("payload");
            Path moved = null;
            if (payload instanceof String s) {
                // A payload is always OUTPUT/<name>/<file>; the slice's OUTPUT path was its runner's.
                moved = out.resolve(name).resolve(Path.of(s).getFileName());
            }
            Object seconds = r.get("seconds");
            return new CumulativeRun.Row(name, Path.of(String.valueOf(r.get("patch"))), CumulativeRun.Status.of((String) r.get("status")).get(),
                    number(r.get("exit_code"), "exit_code"), strings(r.get("functions")), strings(r.get("new_functions")),
                    (String) r.get("changeset"),
                    Duration.ofMillis(seconds instanceof BigDecimal b ? b.movePointRight(3).longValue() : 0), moved,
                    (String) r.get("message"), r.get("blocked_by") instanceof String s ? s : null);
        } catch (JsonReader.Malformed | IllegalArgumentException e) {
            throw new BuildException(BuildException.Reason.SLICE_PART, partDir.resolve("batch.json"), e.getMessage(), e);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectory(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                // Never REPLACE_EXISTING: OUT started empty and names are distinct, so a clash is a bug.
                Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static BuildException mismatch(Path dir, String why) {
        return new BuildException(BuildException.Reason.SLICES_MISMATCH, dir, why + "; nothing written");
    }

    private static Map<?, ?> map(Object o, String what) throws JsonReader.Malformed {
        if (o instanceof Map<?, ?> m) {
            return m;
        }
        throw new JsonReader.Malformed(what + " is not an object");
    }

    private static List<Object> list(Object o, String what) throws JsonReader.Malformed {
        if (o instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        throw new JsonReader.Malformed("\"" + what + "\" is not a list");
    }

    private static int number(Object o, String what) throws JsonReader.Malformed {
        if (o instanceof BigDecimal b) {
            try {
                return b.intValueExact();
            } catch (ArithmeticException e) {
                // Falls through to the message below.
            }
        }
        throw new JsonReader.Malformed("\"" + what + "\" is not an integer");
    }

    private static List<String> strings(Object o) throws JsonReader.Malformed {
        List<String> out = new ArrayList<>();
        for (Object e : list(o, "functions")) {
            if (!(e instanceof String s)) {
                throw new JsonReader.Malformed("a function name is not a string");
            }
            out.add(s);
        }
        return out;
    }
}
