package org.livepatch.verify;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.livepatch.elf.ElfFormatException;
import org.livepatch.payload.FuncLayout;
import org.livepatch.xen.XenSymbolTable;

/**
 * Verifies payloads the way a given Xen release takes them ({@link HypervisorRules}), as a stack: each is uploaded
 * (XEN_SYSCTL_LIVEPATCH_UPLOAD) and then applied on top of the ones before it
 * (LIVEPATCH_ACTION_APPLY), like {@code xen-livepatch load A; xen-livepatch load B}. A refused
 * payload stays out of the simulated hypervisor and the following ones are still checked
 * against what did load.
 */
public final class LoadCheck {
    private LoadCheck() {}

    /**
     * @param base        address of the first payload; 0 for the VMAP_XEN placement Xen would use
     * @param uploadOnly  only upload (no depends or expectation checks)
     * @param nodeps      apply with LIVEPATCH_ACTION_APPLY_NODEPS ({@code xen-livepatch apply --nodeps})
     * @param replaceLast apply the last payload with REPLACE instead of APPLY
     *
     * <p>Start from {@link #defaults()} and name what differs ({@code defaults().withNodeps(true)}):
     * three booleans in a row are too easy to pass in the wrong order.
     */
    public record Options(long base, boolean uploadOnly, boolean nodeps, boolean replaceLast) {
        public static Options defaults() {
            return new Options(0, false, false, false);
        }

        public Options withBase(long address) {
            return new Options(address, uploadOnly, nodeps, replaceLast);
        }

        public Options withUploadOnly(boolean on) {
            return new Options(base, on, nodeps, replaceLast);
        }

        public Options withNodeps(boolean on) {
            return new Options(base, uploadOnly, on, replaceLast);
        }

        public Options withReplaceLast(boolean on) {
            return new Options(base, uploadOnly, nodeps, on);
        }
    }

    /**
     * The outcome of each payload, in order, where they were placed, which release's rules were
     * applied and the hypervisor's NCAPINTS (read from xen-syms or taken from those rules).
     */
    public record Report(List<PayloadOutcome> outcomes, long base, HypervisorRules.Choice model, CpuFeatureWords cpuFeatures) {
        public Report {
            outcomes = List.copyOf(outcomes);
        }

        public boolean accepted() {
            return outcomes.stream().allMatch(PayloadOutcome::accepted);
        }

        /** The first refusal, if any. */
        public Rejection firstRejection() {
            return outcomes.stream().filter(o -> !o.accepted()).map(PayloadOutcome::rejection).findFirst().orElse(null);
        }
    }

    /**
     * Reads the hypervisor payloads are verified against. It must have a GNU build-id note: a bad
     * input like a malformed ELF (the link stage words the same rule as a link failure instead).
     */
    public static XenSymbolTable readHypervisor(Path xenSyms) throws IOException {
        XenSymbolTable xen = XenSymbolTable.load(xenSyms);
        if (xen.buildId().isEmpty()) {
            throw new ElfFormatException(xenSyms, "notes", 0, "no GNU build-id note: a hypervisor without a build-id cannot take live patches");
        }
        return xen;
    }

    /**
     * Verifies {@code payloads} in order against {@code xen}, which must have a build-id, with the
     * rules of its release ({@link HypervisorRules#forHypervisor}).
     */
    public static Report check(XenSymbolTable xen, List<PayloadFile> payloads, Options options) {
        return check(xen, HypervisorRules.forHypervisor(xen), payloads, options);
    }

    /** {@link #check(XenSymbolTable, List, Options)} with the rules chosen by the caller ({@code --xen-version}). */
    public static Report check(XenSymbolTable xen, HypervisorRules.Choice model, List<PayloadFile> payloads, Options options) {
        long base = options.base() != 0 ? options.base() : HypervisorModel.defaultBase(xen);
        HypervisorModel hv = new HypervisorModel(xen, model.rules(), base);
        List<PayloadOutcome> outcomes = new ArrayList<>();
        for (int i = 0; i < payloads.size(); i++) {
            PayloadFile f = payloads.get(i);
            LoadedPayload p;
            try {
                p = hv.upload(f.name(), f.data());
            } catch (PayloadRejectedException e) {
                outcomes.add(new PayloadOutcome(f.name(), null, false, e.rejection(), List.of()));
                continue;
            }
            if (options.uploadOnly()) {
                outcomes.add(new PayloadOutcome(f.name(), p, false, null, List.of()));
                continue;
            }
            try {
                List<String> reverted = List.of();
                if (options.replaceLast() && i == payloads.size() - 1) {
                    reverted = hv.replace(p).stream().map(LoadedPayload::name).toList();
                } else {
                    hv.apply(p, options.nodeps());
                }
                outcomes.add(new PayloadOutcome(f.name(), p, true, null, reverted));
            } catch (PayloadRejectedException e) {
                outcomes.add(new PayloadOutcome(f.name(), p, false, e.rejection(), List.of()));
            }
        }
        return new Report(outcomes, base, model, hv.cpuFeatures());
    }

    /**
     * The check the assembler and {@code prelink} make before writing a payload: the upload of one
     * payload ({@code xen-livepatch upload}) with the rules {@code rules}, plus what of apply the
     * payload alone decides (the shape of its expectations), so that a payload the hypervisor would
     * refuse is never written. Its depends note is not compared (the payload below may not exist
     * yet), nor what depends on where the host will place it (PC32 overflow, the 2 GiB between new
     * and old code): {@code livepatch-verify} checks those against the running hypervisor.
     *
     * @param layout              the {@code struct livepatch_func} the hypervisor reads
     * @param lowerPayloadSymbols names defined by payloads loaded before this one, which Xen resolves
     *                            undefined symbols against too; empty for a payload on the bare hypervisor
     * @return the first refusal, as the hypervisor stops at its first error, or the loader's warnings
     *         about a payload it would take
     */
    public static UploadVerdict beforeWriting(XenSymbolTable xen, HypervisorRules rules, FuncLayout layout, PayloadFile payload,
                                              Set<String> lowerPayloadSymbols) {
        HypervisorModel hv = new HypervisorModel(xen, rules, HypervisorModel.defaultBase(xen), layout, lowerPayloadSymbols, false);
        try {
            LoadedPayload p = hv.upload(payload.name(), payload.data());
            hv.checkExpectations(p, false);
            return new UploadVerdict(Optional.empty(), p.warnings());
        } catch (PayloadRejectedException e) {
            return new UploadVerdict(Optional.of(e.rejection()), List.of());
        }
    }

    /**
     * What {@link #beforeWriting} found: the refusal, or none and what the loader warns about
     * (things the hypervisor takes but the model cannot vouch for, such as alternatives whose
     * effect depends on the CPU). A refused payload has no warnings: the upload stopped.
     */
    public record UploadVerdict(Optional<Rejection> refusal, List<String> warnings) {
        public UploadVerdict {
            warnings = List.copyOf(warnings);
        }
    }

    /**
     * Reads one payload with no hypervisor: structure, layout, relocations (undefined symbols left
     * at 0), funcs, hooks and notes. Checks that need xen-syms are skipped.
     */
    public static PayloadOutcome inspect(PayloadFile f) {
        return inspect(f, HypervisorRules.XEN_4_17);
    }

    /** {@link #inspect(PayloadFile)} with the structural rules of another release. */
    public static PayloadOutcome inspect(PayloadFile f, HypervisorRules rules) {
        HypervisorModel hv = new HypervisorModel(null, rules, HypervisorModel.defaultBase(null));
        try {
            return new PayloadOutcome(f.name(), hv.upload(f.name(), f.data()), false, null, List.of());
        } catch (PayloadRejectedException e) {
            return new PayloadOutcome(f.name(), null, false, e.rejection(), List.of());
        }
    }
}
