package org.livepatch.verify;

/**
 * The three areas move_payload (xen/common/livepatch.c) loads a payload's SHF_ALLOC sections into,
 * by their flags: executable and not writable, writable and not executable, neither. Each area
 * starts on its own page, text first, then RW, then RO.
 */
public enum Region {
    TEXT, RW, RO
}
