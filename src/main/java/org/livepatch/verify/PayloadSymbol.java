package org.livepatch.verify;

/**
 * A symbol of the loaded payload's run-time table (xen/common/livepatch.c: build_symbol_table).
 * A "new" symbol is one whose value is no function's new_addr; later payloads can link against it.
 */
public record PayloadSymbol(String name, long value, long size, boolean newSymbol) {
}
