package org.livepatch.xenbuild;

import java.nio.file.Path;

/**
 * One object the patch changed: its path relative to {@code xen/} (how Xen's build and the
 * hypervisor's symbol table name it, e.g. {@code common/version.o}), the original build's copy
 * and the patched build's copy. The two files differ byte-wise; create-diff-object decides
 * whether that is a functional change.
 */
public record ObjectPair(String path, Path original, Path patched) {}
