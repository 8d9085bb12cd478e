package org.livepatch.link;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.livepatch.payload.FuncLayout;
import org.livepatch.verify.HypervisorRules;
import org.livepatch.verify.LoadCheck;
import org.livepatch.verify.PayloadFile;
import org.livepatch.verify.Rejection;
import org.livepatch.xen.XenSymbolTable;
import org.livepatch.xen.XenSymsException;

/**
 * The hypervisor's upload checks, made before a payload is written so that one Xen would refuse
 * is never produced. This is only the assembler's and {@code prelink}'s way into the verifier's
 * loader ({@link LoadCheck#beforeWriting}), which holds the single description of what a release
 * accepts ({@link HypervisorRules}); a refusal becomes a {@link PayloadRejectedException} naming
 * the payload, the hypervisor, the reason and its errno. Like Xen, the loader stops at the first
 * problem. What the loader warns about in a payload it takes is returned for the caller to show.
 *
 * <p>What cannot be known before the payload is loaded on the real host is not checked: where the
 * payloads below a stacked one are (their symbols are known by name only) and the build-id of the
 * payload it stacks on ({@code .livepatch.depends} is only compared at apply time,
 * {@code xen/common/livepatch.c: build_id_dep}).
 */
public final class HypervisorLimits {
    private final XenSymbolTable xen;
    private final HypervisorRules rules;
    private final FuncLayout layout;
    private final String target;
    private final Set<String> lowerPayloadSymbols;

    /**
     * @param lowerPayloadSymbols names defined by payloads loaded before this one: Xen resolves
     *                            undefined symbols against those too ({@code livepatch_symbols_lookup_by_name})
     */
    public HypervisorLimits(XenSymbolTable xen, FuncLayout layout, Set<String> lowerPayloadSymbols) {
        this(xen, HypervisorRules.forHypervisor(xen).rules(), layout, lowerPayloadSymbols);
    }

    /** With the rules of a release named by the caller rather than read from xen-syms. */
    public HypervisorLimits(XenSymbolTable xen, HypervisorRules rules, FuncLayout layout, Set<String> lowerPayloadSymbols) {
        this.xen = xen;
        this.rules = rules;
        this.layout = layout;
        this.lowerPayloadSymbols = Set.copyOf(lowerPayloadSymbols);
        String v;
        try {
            v = "Xen " + xen.version();
        } catch (XenSymsException e) {
            v = "the hypervisor of " + xen.path();
        }
        this.target = v;
    }

    public HypervisorLimits(XenSymbolTable xen, FuncLayout layout) {
        this(xen, layout, Set.of());
    }

    /** The name {@code xen-livepatch load FILE} gives a payload: the file's base name without its last extension. */
    public static String payloadNameOf(Path file) {
        return PayloadFile.nameOf(file);
    }

    /**
     * Throws when the hypervisor would refuse the payload {@code bytes} (shown as {@code file})
     * uploaded as {@code name}; otherwise returns what the loader warns about it.
     */
    public List<String> check(Path file, String name, byte[] bytes) throws PayloadRejectedException {
        LoadCheck.UploadVerdict v = verdict(name, bytes);
        if (v.refusal().isPresent()) {
            throw new PayloadRejectedException(file.toString(), target, v.refusal().get());
        }
        return v.warnings();
    }

    /** The hypervisor's first reason to refuse the payload, or the loader's warnings when it would load it. */
    public LoadCheck.UploadVerdict verdict(String name, byte[] bytes) {
        return LoadCheck.beforeWriting(xen, rules, layout, PayloadFile.of(name, bytes), lowerPayloadSymbols);
    }

    /** The hypervisor's first reason to refuse the payload; empty when it would load it. */
    public Optional<Rejection> refusal(String name, byte[] bytes) {
        return verdict(name, bytes).refusal();
    }
}
