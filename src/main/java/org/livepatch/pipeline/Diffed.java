package org.livepatch.pipeline;

import java.util.List;
import java.util.Map;
import org.livepatch.xenbuild.BuildOutcome;
import org.livepatch.xen.XenSymbolTable;

/**
 * What the diff stage hands to assembly: the payload objects in memory (written to disk only
 * where {@code ld -r} needs a file), and what the report says about them.
 *
 * @param built            the build stages' outcome
 * @param xen              the hypervisor's symbols, as the check or reference stage opened them
 * @param objects          payload objects in the build's order: each changed object's diff output, then new objects
 * @param changedFunctions functions with a {@code .livepatch.funcs} entry, in object order
 * @param functionObject   the object each changed function came from
 */
public record Diffed(BuildOutcome built, XenSymbolTable xen, List<PayloadObject> objects, List<String> changedFunctions,
        Map<String, String> functionObject, List<String> newFunctions, List<LineOnlyFunction> lineOnly) {

    /** One payload object: its path below xen/ and its bytes. */
    public record PayloadObject(String path, byte[] bytes) {}

    public Diffed {
        objects = List.copyOf(objects);
        changedFunctions = List.copyOf(changedFunctions);
        functionObject = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(functionObject));
        newFunctions = List.copyOf(newFunctions);
        lineOnly = List.copyOf(lineOnly);
    }

    /** Paths (below xen/) of the payload's objects. */
    public List<String> objectPaths() {
        return objects.stream().map(PayloadObject::path).toList();
    }
}
