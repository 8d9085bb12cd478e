package org.livepatch.layout;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A type whose layout the patch changes: its name ({@code struct grant_table}), the file that
 * defines it (relative to xen/, from DW_AT_decl_file), the fields involved, one phrase per
 * difference, the functions that use it and the objects in which it was seen.
 */
public record LayoutChange(String type, String file, List<String> fields, List<String> differences,
        Set<String> functions, Set<String> objects) {

    /** How many function names one line shows; the rest are counted. */
    static final int SHOWN_FUNCTIONS = 5;

    public LayoutChange {
        fields = List.copyOf(fields);
        differences = List.copyOf(differences);
        functions = Set.copyOf(new TreeSet<>(functions));
        objects = Set.copyOf(new TreeSet<>(objects));
    }

    /** Whether {@code name} names this type: {@code struct grant_table} or just {@code grant_table}. */
    public boolean isNamed(String name) {
        String n = name.strip();
        return type.equals(n) || type.substring(type.indexOf(' ') + 1).equals(n);
    }

    /** The same change seen in another object: functions and objects joined. */
    public LayoutChange merge(LayoutChange other) {
        Set<String> f = new TreeSet<>(functions);
        f.addAll(other.functions);
        Set<String> o = new TreeSet<>(objects);
        o.addAll(other.objects);
        return new LayoutChange(type, file, fields, differences, f, o);
    }

    /** One line: type, file, fields, differences, a few users. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(type);
        sb.append(" (defined in ").append(file == null ? "an unknown file" : file).append("): ");
        sb.append(String.join("; ", differences));
        List<String> fn = new ArrayList<>(new TreeSet<>(functions));
        if (!fn.isEmpty()) {
            sb.append("; used by ").append(String.join(", ", fn.subList(0, Math.min(SHOWN_FUNCTIONS, fn.size()))));
            if (fn.size() > SHOWN_FUNCTIONS) {
                sb.append(" and ").append(fn.size() - SHOWN_FUNCTIONS).append(" more");
            }
        }
        List<String> ob = new ArrayList<>(new TreeSet<>(objects));
        sb.append(" (in ").append(String.join(", ", ob.subList(0, Math.min(3, ob.size()))));
        if (ob.size() > 3) {
            sb.append(" and ").append(ob.size() - 3).append(" more object(s)");
        }
        sb.append(')');
        return sb.toString();
    }
}
