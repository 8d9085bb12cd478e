package org.livepatch.diff;

/**
 * One line of the explanation of a diff: what ({@code subject}) is in the output or was left out,
 * as what ({@code kind}: changed, new, included, referenced, special, section, note, refused),
 * and why.
 */
public record ReportEntry(String kind, String subject, String reason) {
    @Override
    public String toString() {
        return kind + " " + subject + ": " + reason;
    }
}
