package org.livepatch.verify;

import org.livepatch.io.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.livepatch.elf.Bytes;

/**
 * Which payloads can be stacked on which. Xen applies a payload only when its
 * {@code .livepatch.depends} equals the build-id of the payload on top of the applied stack, or
 * the hypervisor's when nothing is applied (xen/common/livepatch.c: build_id_dep), and uploads it
 * only when {@code .livepatch.xen_depends} is the hypervisor's (xen_build_id_dep). So the payloads
 * form a forest rooted at the hypervisor: each path from the root is a valid load order.
 * REPLACE needs depends == the hypervisor and reverts every applied payload.
 */
public final class DependencyGraph {
    /** What is wrong with one payload's dependencies; {@code note} problems do not prevent loading. */
    public record Problem(String payload, String kind, boolean note, String message) {}

    /** The verdict on a REPLACE of one payload over the stack of the others. */
    public record ReplaceAnalysis(String payload, boolean possible, String reason, List<String> reverts) {
        public ReplaceAnalysis {
            reverts = List.copyOf(reverts);
        }
    }

    /**
     * @param stacks every maximal chain from the hypervisor up, each a valid load order
     * @param order  the one load order that uses every payload, when it exists, else empty
     */
    public record Analysis(String xenBuildId, List<List<String>> stacks, List<String> order, List<Problem> problems, ReplaceAnalysis replace) {
        public Analysis {
            stacks = stacks.stream().map(List::copyOf).toList();
            order = List.copyOf(order);
            problems = List.copyOf(problems);
        }

        public boolean ok() {
            return problems.stream().allMatch(Problem::note) && (replace == null || replace.possible());
        }

        public void print(PrintWriter out) {
            out.println("hypervisor build-id " + xenBuildId);
            if (!order.isEmpty()) {
                out.println("load order: " + String.join(" -> ", order));
            } else {
                out.println("no single load order uses every payload; valid stacks:");
            }
            for (List<String> s : stacks) {
                out.println("  stack: hypervisor -> " + String.join(" -> ", s));
            }
            for (Problem p : problems) {
                out.println((p.note() ? "note: " : "error: ") + p.payload() + ": " + p.message());
            }
            if (replace != null) {
                if (replace.possible()) {
                    out.println("replace " + replace.payload() + ": possible; reverts " + (replace.reverts().isEmpty() ? "nothing" : String.join(", ", replace.reverts())));
                } else {
                    out.println("replace " + replace.payload() + ": refused: " + replace.reason());
                }
            }
        }

        public String toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ok", ok());
            m.put("xenBuildId", xenBuildId);
            m.put("order", order);
            m.put("stacks", stacks);
            List<Object> probs = new ArrayList<>();
            for (Problem p : problems) {
                Map<String, Object> pm = new LinkedHashMap<>();
                pm.put("payload", p.payload());
                pm.put("kind", p.kind());
                pm.put("note", p.note());
                pm.put("message", p.message());
                probs.add(pm);
            }
            m.put("problems", probs);
            if (replace != null) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("payload", replace.payload());
                r.put("possible", replace.possible());
                r.put("reason", replace.reason());
                r.put("reverts", replace.reverts());
                m.put("replace", r);
            }
            return Json.write(m);
        }
    }

    private record Node(String name, Bytes buildId, Bytes depends, Bytes xenDepends, boolean vetoingHooks) {}

    private final Bytes xenBuildId;
    private final List<Node> nodes;
    private final List<Problem> readProblems;

    private DependencyGraph(Bytes xenBuildId, List<Node> nodes, List<Problem> readProblems) {
        this.xenBuildId = xenBuildId;
        this.nodes = List.copyOf(nodes);
        this.readProblems = List.copyOf(readProblems);
    }

    /** Builds the graph from payloads read without a hypervisor ({@link LoadCheck#inspect}); refused ones become problems. */
    public static DependencyGraph of(Bytes xenBuildId, List<PayloadOutcome> payloads) {
        List<Node> nodes = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        for (PayloadOutcome o : payloads) {
            LoadedPayload p = o.payload();
            if (p == null) {
                problems.add(new Problem(o.name(), "UNREADABLE", false, o.rejection().message()));
            } else {
                nodes.add(new Node(p.name(), p.buildId(), p.depends(), p.xenDepends(), p.hasVetoingHooks()));
            }
        }
        return new DependencyGraph(xenBuildId, nodes, problems);
    }

    public Analysis analyse(String replaceName) {
        List<Problem> problems = new ArrayList<>(readProblems);
        List<Node> usable = new ArrayList<>();
        Set<Bytes> seenIds = new HashSet<>();
        for (Node n : nodes) {
            if (!n.xenDepends().equals(xenBuildId)) {
                problems.add(new Problem(n.name(), "WRONG_XEN_DEPENDS", false, ".livepatch.xen_depends is " + n.xenDepends().toHex()
                        + ", not the hypervisor's " + xenBuildId.toHex() + ": upload is refused (" + RejectReason.XEN_BUILD_ID_MISMATCH.errno().describe() + ")"));
                continue;
            }
            if (!seenIds.add(n.buildId())) {
                problems.add(new Problem(n.name(), "DUPLICATE_BUILD_ID", false, "has the same build-id " + n.buildId().toHex()
                        + " as another payload: Xen refuses to load both (" + RejectReason.ALREADY_LOADED.errno().describe() + ")"));
                continue;
            }
            usable.add(n);
        }
        for (Node n : usable) {
            if (n.depends().equals(xenBuildId)) {
                continue;
            }
            Node parent = byBuildId(usable, n.depends());
            if (parent == null) {
                Node wrong = byBuildId(nodes, n.depends());
                problems.add(new Problem(n.name(), "MISSING_DEPENDENCY", false, ".livepatch.depends is " + n.depends().toHex()
                        + (wrong != null ? ", the build-id of " + wrong.name() + ", which cannot be loaded itself"
                                : ", which is neither the hypervisor's build-id nor any given payload's") + ": apply is refused ("
                        + RejectReason.DEPENDS_MISMATCH.errno().describe() + ")"));
            } else if (parent == n) {
                problems.add(new Problem(n.name(), "SELF_DEPENDENCY", false, "depends on its own build-id"));
            }
        }
        // Walk the forest from the hypervisor; a payload reached twice would mean a cycle, which build-ids rule out.
        List<List<String>> stacks = new ArrayList<>();
        Map<Node, List<Node>> children = new LinkedHashMap<>();
        for (Node n : usable) {
            children.put(n, new ArrayList<>());
        }
        List<Node> roots = new ArrayList<>();
        for (Node n : usable) {
            if (n.depends().equals(xenBuildId)) {
                roots.add(n);
            } else {
                Node parent = byBuildId(usable, n.depends());
                if (parent != null && parent != n) {
                    children.get(parent).add(n);
                }
            }
        }
        for (Node r : roots) {
            collect(r, new ArrayList<>(), children, stacks, new HashSet<>());
        }
        for (Map.Entry<Node, List<Node>> e : children.entrySet()) {
            if (e.getValue().size() > 1) {
                problems.add(new Problem(e.getKey().name(), "BRANCH", true, e.getValue().stream().map(Node::name).toList()
                        + " all depend on it: only one of them can be applied on top of it"));
            }
        }
        Set<String> reached = new HashSet<>();
        stacks.forEach(reached::addAll);
        for (Node n : usable) {
            if (!reached.contains(n.name()) && problems.stream().noneMatch(p -> p.payload().equals(n.name()))) {
                problems.add(new Problem(n.name(), "UNREACHABLE", false, "no chain of dependencies leads to it from the hypervisor"));
            }
        }
        List<String> order = stacks.size() == 1 && stacks.get(0).size() == nodes.size() + readProblems.size() ? stacks.get(0) : List.of();
        ReplaceAnalysis replace = replaceName == null ? null : replace(replaceName, usable, stacks);
        return new Analysis(xenBuildId.toHex(), stacks, order, problems, replace);
    }

    private static void collect(Node n, List<String> path, Map<Node, List<Node>> children, List<List<String>> out, Set<Node> seen) {
        if (!seen.add(n)) {
            return;
        }
        path.add(n.name());
        List<Node> kids = children.getOrDefault(n, List.of());
        if (kids.isEmpty()) {
            out.add(List.copyOf(path));
        }
        for (Node k : kids) {
            collect(k, path, children, out, seen);
        }
        path.remove(path.size() - 1);
        seen.remove(n);
    }

    /**
     * REPLACE of {@code name} over the longest stack of the other payloads: Xen requires depends ==
     * the hypervisor and no vetoing hooks here or in the applied payloads, then reverts every
     * applied payload, newest first (livepatch.c: livepatch_action, livepatch_do_action).
     */
    private ReplaceAnalysis replace(String name, List<Node> usable, List<List<String>> stacks) {
        Node p = null;
        for (Node n : usable) {
            if (n.name().equals(name)) {
                p = n;
            }
        }
        if (p == null) {
            return new ReplaceAnalysis(name, false, "no loadable payload named " + name + " among the given ones", List.of());
        }
        List<String> applied = List.of();
        for (List<String> s : stacks) {
            if (!s.contains(name) && s.size() > applied.size()) {
                applied = s;
            }
        }
        List<String> reverts = new ArrayList<>(applied);
        java.util.Collections.reverse(reverts);
        if (!p.depends().equals(xenBuildId)) {
            return new ReplaceAnalysis(name, false, "its .livepatch.depends is " + p.depends().toHex()
                    + ", but REPLACE requires the hypervisor's build-id (" + RejectReason.DEPENDS_MISMATCH.errno().describe() + ")", reverts);
        }
        if (p.vetoingHooks()) {
            return new ReplaceAnalysis(name, false, "it has pre/post apply/revert hooks (" + RejectReason.REPLACE_WITH_VETOING_HOOKS.errno().describe() + ")", reverts);
        }
        for (String a : applied) {
            for (Node n : usable) {
                if (n.name().equals(a) && n.vetoingHooks()) {
                    return new ReplaceAnalysis(name, false, "applied payload " + a + " has pre/post apply/revert hooks ("
                            + RejectReason.REPLACE_WITH_VETOING_HOOKS.errno().describe() + ")", reverts);
                }
            }
        }
        return new ReplaceAnalysis(name, true, null, reverts);
    }

    private static Node byBuildId(List<Node> list, Bytes id) {
        for (Node n : list) {
            if (n.buildId().equals(id)) {
                return n;
            }
        }
        return null;
    }
}
