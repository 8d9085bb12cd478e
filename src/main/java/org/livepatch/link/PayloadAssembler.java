package org.livepatch.link;

import org.livepatch.io.FileTrees;
import org.livepatch.io.AtomicFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.ObjectBuilder;
import org.livepatch.elf.Section;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.PayloadSections;
import org.livepatch.xen.XenSymbolTable;
import org.livepatch.xen.XenSymsException;

/**
 * Turns the per-object outputs of create-diff-object into one {@code .livepatch} payload:
 * <ol>
 * <li>{@code ld -r} of the objects (in the order given), with a placeholder
 *     {@code .note.gnu.build-id} object first so the note is the payload's first section, as
 *     {@code ld --build-id} would place it;</li>
 * <li>the metadata symbols removed (below);</li>
 * <li>with {@link Options#prelink()}, every hypervisor reference resolved ahead of time ({@link Prelinker});</li>
 * <li>with {@link Options#strip()}, everything relocations do not need removed (below);</li>
 * <li>{@code .livepatch.depends} and {@code .livepatch.xen_depends} added;</li>
 * <li>the payload's own build-id computed from its content;</li>
 * <li>everything the hypervisor checks on upload checked by the verifier's loader
 *     ({@link HypervisorLimits}): a payload it would refuse is never returned.</li>
 * </ol>
 *
 * <p><b>Dependency notes.</b> Both are one GNU build-id note ({@link BuildIdNote}), in
 * {@code SHT_PROGBITS} sections with {@code SHF_ALLOC} like the upstream tool's and Xen's
 * in-tree test payloads' ({@code objcopy --add-section}/{@code -I binary}), because the hypervisor
 * finds them by name and reads them from the loaded image ({@code prepare_payload}). We align them
 * to 4 rather than 1: the note header is three 32-bit words.
 *
 * <p><b>The payload's build-id</b> is the SHA-1 of the finished payload file with the 20 bytes of
 * its own build-id zeroed. Unlike {@code ld --build-id=sha1}, which hashes the linker's output
 * before anything is stripped or added, it describes the bytes Xen receives, anyone can recompute
 * it, and the same inputs always give the same id (no time or path enters the file). Stacked
 * payloads name it in their {@code --depends}.
 *
 * <p><b>Metadata symbols</b>, removed as the upstream tool does (its {@code strip_metadata_symbols}):
 * symbols defined inside {@code .livepatch.funcs} and the {@code livepatch_<hook>_data_*}
 * pointers of the hook macros. The hypervisor enters every named symbol of a loaded section into
 * its table of new symbols and refuses a payload whose new symbol already exists
 * ({@code build_symbol_table}: "duplicate new symbol"), so two payloads that both carry such a
 * symbol could not be loaded together. A symbol a relocation still names is kept.
 *
 * <p><b>{@code --strip}</b> removes everything the relocations do not need: the {@code .debug_*}
 * sections, and every local symbol (FILE, section, static function or data) and every undefined
 * symbol that no relocation or group names. Global definitions stay: payloads stacked on this one
 * may link against them. (Upstream ran {@code strip --strip-unneeded} on new objects only.)
 * Dropping unreferenced undefined symbols matters beyond size: the hypervisor resolves every
 * undefined symbol, referenced or not, and refuses the payload when one is unknown.
 */
public final class PayloadAssembler {
    private static final List<String> HOOK_DATA_PREFIXES = List.of("load", "unload", "preapply", "apply", "postapply",
            "prerevert", "revert", "postrevert").stream().map(h -> "livepatch_" + h + "_data_").toList();
    private static final int SHA1_SIZE = 20;

    private final XenSymbolTable xen;
    private final RelocatableLinker linker;
    private final Consumer<String> debug;

    /**
     * @param depends              build-id this payload applies on top of: the hypervisor's
     *                             (empty: take it from xen-syms) or the payload below's own build-id
     * @param xenDepends           the running hypervisor's build-id (empty: take it from xen-syms)
     * @param prelink              resolve hypervisor references now ({@code --prelink})
     * @param strip                remove what relocations do not need ({@code --strip})
     * @param lowerPayloadSymbols  symbols of payloads loaded below this one, which Xen also resolves against
     */
    public record Options(Optional<BuildIdNote> depends, Optional<BuildIdNote> xenDepends, boolean prelink, boolean strip,
                          Set<String> lowerPayloadSymbols) {
        public Options {
            lowerPayloadSymbols = Set.copyOf(lowerPayloadSymbols);
        }

        /** A first payload on the hypervisor: depends on its build-id, not prelinked, not stripped. */
        public static Options defaults() {
            return new Options(Optional.empty(), Optional.empty(), false, false, Set.of());
        }

        public Options withPrelink(boolean p) {
            return new Options(depends, xenDepends, p, strip, lowerPayloadSymbols);
        }

        public Options withStrip(boolean s) {
            return new Options(depends, xenDepends, prelink, s, lowerPayloadSymbols);
        }

        public Options withDepends(BuildIdNote d) {
            return new Options(Optional.of(d), xenDepends, prelink, strip, lowerPayloadSymbols);
        }

        public Options withXenDepends(BuildIdNote d) {
            return new Options(depends, Optional.of(d), prelink, strip, lowerPayloadSymbols);
        }

        public Options withLowerPayloadSymbols(Set<String> symbols) {
            return new Options(depends, xenDepends, prelink, strip, symbols);
        }
    }

    /**
     * A finished payload: its bytes, its own build-id and what it depends on.
     *
     * @param warnings what the hypervisor's loader model warns about in this payload, which it
     *                 would take (for the caller to show: the assembler prints nothing)
     */
    public record Payload(String name, Bytes bytes, BuildIdNote buildId, BuildIdNote depends, BuildIdNote xenDepends,
                          Optional<Prelinker.Result> prelink, List<String> warnings) {
        public Payload {
            warnings = List.copyOf(warnings);
        }

        /** Writes through a temporary file in the same directory, so a failure never leaves half a payload. */
        public void writeTo(Path file) throws IOException {
            AtomicFile.write(file, bytes.toArray());
        }
    }

    public PayloadAssembler(XenSymbolTable xen, RelocatableLinker linker, Consumer<String> debug) {
        this.xen = xen;
        this.linker = linker;
        this.debug = debug;
    }

    public PayloadAssembler(XenSymbolTable xen) {
        this(xen, new RelocatableLinker(), line -> { });
    }

    /** Assembles and writes {@code output}; the payload's name is the file name without its extension. */
    public Payload assembleTo(List<Path> objects, Path output, Options options) throws IOException, LinkException {
        Payload p = assemble(objects, HypervisorLimits.payloadNameOf(output), options, output);
        p.writeTo(output);
        return p;
    }

    /**
     * Assembles a payload from create-diff-object outputs.
     *
     * @param name the payload's name as the hypervisor will know it (checked against its limits)
     */
    public Payload assemble(List<Path> objects, String name, Options options) throws IOException, LinkException {
        return assemble(objects, name, options, Path.of(name + ".livepatch"));
    }

    /**
     * One input object: the file {@code ld -r} reads and its parsed model, which the caller may
     * already hold (the pipeline has it from the diff), so the file is not read back.
     */
    public record Input(Path file, ElfFile model) {}

    /** {@link #assemble(List, String, Options)} on objects whose models the caller already has. */
    public Payload assembleInputs(List<Input> objects, String name, Options options) throws IOException, LinkException {
        return assembleInputs(objects, name, options, Path.of(name + ".livepatch"));
    }

    private Payload assemble(List<Path> objects, String name, Options options, Path shownAs) throws IOException, LinkException {
        List<Input> inputs = new ArrayList<>();
        for (Path o : objects) {
            inputs.add(new Input(o, ElfReader.read(o)));
        }
        return assembleInputs(inputs, name, options, shownAs);
    }

    private Payload assembleInputs(List<Input> objects, String name, Options options, Path shownAs) throws IOException, LinkException {
        if (objects.isEmpty()) {
            throw new LinkException("no objects to assemble into payload " + name);
        }
        for (Input o : objects) {
            ElfFile in = o.model();
            Prelinker.requireRelocatable(in);
            for (String owned : List.of(PayloadSections.BUILD_ID, PayloadSections.DEPENDS, PayloadSections.XEN_DEPENDS)) {
                if (in.section(owned).isPresent()) {
                    // ld -r would concatenate them into one section holding two notes, and Xen reads only the first.
                    throw new LinkException(o.file() + ": already has a " + owned + " section; the payload assembler writes it itself");
                }
            }
        }
        FuncLayout layout;
        BuildIdNote xenId;
        try {
            layout = xen.version().funcLayout();
            xenId = options.xenDepends().orElse(new BuildIdNote(xen.requireBuildId()));
        } catch (XenSymsException e) {
            throw new LinkException(e);
        }
        BuildIdNote depends = options.depends().orElse(xenId);

        Path tmp = Files.createTempDirectory("lpb-assemble");
        try {
            Path stub = tmp.resolve("build-id-note.o");
            Files.write(stub, buildIdStub());
            List<Path> inputs = new ArrayList<>();
            inputs.add(stub);
            objects.forEach(o -> inputs.add(o.file()));
            Path linked = tmp.resolve("linked.o");
            linker.linkRelocatable(inputs, linked);
            ElfFile linkedElf = ElfReader.read(linked);
            ObjectBuilder b = ObjectBuilder.copyOf(linkedElf).builder();

            stripMetadataSymbols(b);
            Optional<Prelinker.Result> pre = Optional.empty();
            if (options.prelink()) {
                pre = Optional.of(new Prelinker(xen, debug).prelink(b, name));
            }
            if (options.strip()) {
                stripUnneeded(b);
            }
            b.addSection(PayloadSections.DEPENDS, Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 4, 0, depends.encode());
            b.addSection(PayloadSections.XEN_DEPENDS, Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 4, 0, xenId.encode());

            // Written once, with the build-id still zero; the limits are checked on that image
            // (nothing they check reads the id's 20 bytes), then the id, the SHA-1 of exactly
            // those bytes, goes in place. Writing the model a second time would give the same
            // bytes but for the id.
            byte[] bytes = b.toBytes();
            ElfFile result = ElfReader.read(shownAs, bytes);
            List<String> warnings = new HypervisorLimits(xen, layout, options.lowerPayloadSymbols()).check(shownAs, name, bytes);
            BuildIdNote own = new BuildIdNote(Bytes.copyOf(sha1(bytes)));
            Section note = result.section(PayloadSections.BUILD_ID)
                    .orElseThrow(() -> new IllegalStateException("the payload lost its " + PayloadSections.BUILD_ID));
            byte[] id = own.id().toArray();
            if (note.data().u32(4) != id.length) {
                throw new IllegalStateException("the build-id note is not " + id.length + " bytes");
            }
            byte[] payload = bytes.clone();
            System.arraycopy(id, 0, payload, (int) note.offset() + BuildIdNote.descOffset(), id.length);
            debug.accept("payload " + name + ": " + payload.length + " bytes, build-id " + own.hex() + ", depends " + depends.hex());
            return new Payload(name, Bytes.copyOf(payload), own, depends, xenId, pre, warnings);
        } finally {
            FileTrees.delete(tmp);
        }
    }

    /**
     * The build-id of a finished payload as we define it: SHA-1 of the file with its own
     * build-id's bytes zeroed. Lets anyone check a payload's id against its content.
     */
    public static Bytes contentBuildId(Bytes payload) throws IOException {
        ElfFile f = ElfReader.read(Path.of("payload"), payload.toArray());
        Section s = f.section(PayloadSections.BUILD_ID).orElseThrow(() -> new IOException("payload has no " + PayloadSections.BUILD_ID));
        byte[] b = payload.toArray();
        int desc = (int) s.offset() + BuildIdNote.descOffset();
        int len = (int) s.data().u32(4);
        java.util.Arrays.fill(b, desc, desc + len, (byte) 0);
        return Bytes.copyOf(sha1(b));
    }

    /** An object holding only a {@code .note.gnu.build-id} with a zero SHA-1-sized id, filled in last. */
    private static byte[] buildIdStub() {
        ObjectBuilder b = new ObjectBuilder(Elf.EM_X86_64, 0, 0);
        b.addSection(PayloadSections.BUILD_ID, Elf.SHT_NOTE, Elf.SHF_ALLOC, 4, 0, new BuildIdNote(Bytes.copyOf(new byte[SHA1_SIZE])).encode());
        return b.toBytes();
    }

    private static Set<ObjectBuilder.SymbolHandle> referenced(ObjectBuilder b) {
        Set<ObjectBuilder.SymbolHandle> used = Collections.newSetFromMap(new IdentityHashMap<>());
        for (ObjectBuilder.SectionHandle s : b.sections()) {
            if (s.kind() == ObjectBuilder.Kind.RELA) {
                for (ObjectBuilder.RelaEntry r : s.relocations()) {
                    if (r.symbol() != null) {
                        used.add(r.symbol());
                    }
                }
            } else if (s.kind() == ObjectBuilder.Kind.GROUP && s.groupSignature() != null) {
                used.add(s.groupSignature());
            }
        }
        return used;
    }

    static void stripMetadataSymbols(ObjectBuilder b) {
        List<ObjectBuilder.SymbolHandle> metadata = new ArrayList<>();
        for (ObjectBuilder.SymbolHandle s : b.symbols()) {
            if (s.type() == Elf.STT_SECTION || s.section() == null) {
                continue;
            }
            boolean inFuncs = s.section().name().equals(PayloadSections.FUNCS);
            boolean hookData = HOOK_DATA_PREFIXES.stream().anyMatch(p -> s.name().startsWith(p));
            if (inFuncs || hookData) {
                metadata.add(s);
            }
        }
        if (metadata.isEmpty()) {
            return;
        }
        // Relocations that name them (debug info does, and a hook table may) are moved to the
        // section symbol with the symbol's offset added: S + A is the same address either way.
        IdentityHashMap<ObjectBuilder.SymbolHandle, ObjectBuilder.SymbolHandle> sectionSymbol = new IdentityHashMap<>();
        for (ObjectBuilder.SymbolHandle m : metadata) {
            sectionSymbol.put(m, sectionSymbolOf(b, m.section()));
        }
        for (ObjectBuilder.SectionHandle rs : b.sections()) {
            if (rs.kind() != ObjectBuilder.Kind.RELA) {
                continue;
            }
            boolean changed = false;
            List<ObjectBuilder.RelaEntry> rels = new ArrayList<>(rs.relocations().size());
            for (ObjectBuilder.RelaEntry r : rs.relocations()) {
                ObjectBuilder.SymbolHandle to = r.symbol() == null ? null : sectionSymbol.get(r.symbol());
                if (to != null) {
                    rels.add(new ObjectBuilder.RelaEntry(r.offset(), r.type(), to, r.addend() + r.symbol().value()));
                    changed = true;
                } else {
                    rels.add(r);
                }
            }
            if (changed) {
                b.setRelocations(rs, rels);
            }
        }
        for (ObjectBuilder.SymbolHandle m : metadata) {
            if (!referenced(b).contains(m)) {
                b.removeSymbol(m);
            }
        }
    }

    private static ObjectBuilder.SymbolHandle sectionSymbolOf(ObjectBuilder b, ObjectBuilder.SectionHandle sec) {
        for (ObjectBuilder.SymbolHandle s : b.symbols()) {
            if (s.type() == Elf.STT_SECTION && s.section() == sec) {
                return s;
            }
        }
        return b.addSymbol("", Elf.STB_LOCAL, Elf.STT_SECTION, 0, sec, 0, 0);
    }

    static void stripUnneeded(ObjectBuilder b) {
        List<ObjectBuilder.SectionHandle> debugSections = b.sections().stream()
                .filter(s -> s.kind() == ObjectBuilder.Kind.DATA && s.name().startsWith(".debug_")).toList();
        // Their relocation sections first: those are what name the symbols defined in them.
        for (ObjectBuilder.SectionHandle d : debugSections) {
            ObjectBuilder.SectionHandle rela = Prelinker.relaFor(b, d);
            if (rela != null) {
                b.removeSection(rela);
            }
        }
        for (ObjectBuilder.SectionHandle d : debugSections) {
            for (ObjectBuilder.SymbolHandle s : b.symbols()) {
                if (s.section() == d) {
                    b.removeSymbol(s);
                }
            }
            b.removeSection(d);
        }
        Set<ObjectBuilder.SymbolHandle> used = referenced(b);
        for (ObjectBuilder.SymbolHandle s : b.symbols()) {
            boolean undefined = s.section() == null && s.specialIndex() == Elf.SHN_UNDEF;
            if (!used.contains(s) && (s.isLocal() || undefined)) {
                b.removeSymbol(s);
            }
        }
    }

    private static byte[] sha1(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-1").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-1", e);
        }
    }


}
