package org.livepatch.diff;

import java.util.List;

/** The JSON form of a {@link DiffResult} for {@code --json}: a small fixed schema, written without a library. */
public final class DiffReportJson {
    private DiffReportJson() {}

    /** The report without an exit code: the diff inside {@code livepatch-build}, which exits with its own. */
    public static String of(String orig, String patched, DiffResult r) {
        return of(orig, patched, r, null);
    }

    /** The report with the exit code the command line gave this result ({@code create-diff-object --json}). */
    public static String of(String orig, String patched, DiffResult r, Integer exitCode) {
        StringBuilder sb = new StringBuilder("{\n");
        field(sb, "original", orig).append(",\n");
        field(sb, "patched", patched).append(",\n");
        field(sb, "status", r.status().name().toLowerCase().replace('_', '-')).append(",\n");
        if (exitCode != null) {
            sb.append("  \"exit_code\": ").append(exitCode).append(",\n");
        }
        if (r.layout() != null) {
            sb.append("  \"payload_version\": ").append(r.layout().version()).append(",\n");
        }
        list(sb, "changed_functions", r.changedFunctions()).append(",\n");
        list(sb, "new_functions", r.newFunctions()).append(",\n");
        list(sb, "line_only_functions", r.lineOnlyFunctions()).append(",\n");
        sb.append("  \"refusals\": [");
        for (int i = 0; i < r.refusals().size(); i++) {
            Refusal f = r.refusals().get(i);
            sb.append(i == 0 ? "\n" : ",\n").append("    {\"object\": ").append(q(f.object())).append(", \"symbol\": ")
                    .append(q(f.symbol())).append(", \"reason\": ").append(q(f.reason())).append('}');
        }
        sb.append(r.refusals().isEmpty() ? "],\n" : "\n  ],\n");
        sb.append("  \"report\": [");
        for (int i = 0; i < r.report().size(); i++) {
            ReportEntry e = r.report().get(i);
            sb.append(i == 0 ? "\n" : ",\n").append("    {\"kind\": ").append(q(e.kind())).append(", \"subject\": ")
                    .append(q(e.subject())).append(", \"reason\": ").append(q(e.reason())).append('}');
        }
        sb.append(r.report().isEmpty() ? "]\n" : "\n  ]\n");
        return sb.append("}\n").toString();
    }

    private static StringBuilder field(StringBuilder sb, String k, String v) {
        return sb.append("  ").append(q(k)).append(": ").append(q(v));
    }

    private static StringBuilder list(StringBuilder sb, String k, List<String> v) {
        sb.append("  ").append(q(k)).append(": [");
        for (int i = 0; i < v.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(q(v.get(i)));
        }
        return sb.append(']');
    }

    static String q(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
