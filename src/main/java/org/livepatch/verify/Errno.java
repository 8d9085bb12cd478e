package org.livepatch.verify;

/**
 * The errno values the Xen hypervisor (4.17 to 4.22) returns from a live-patch sysctl, as positive numbers
 * (Xen returns them negated). Values are Xen's public ABI (xen/include/public/errno.h), which on
 * x86 match Linux's.
 */
public enum Errno {
    ENOENT(2),
    ENOEXEC(8),
    ENOMEM(12),
    EFAULT(14),
    EBUSY(16),
    EEXIST(17),
    EINVAL(22),
    ENOSPC(28),
    ERANGE(34),
    ENODATA(61),
    EOVERFLOW(75),
    EOPNOTSUPP(95);

    private final int value;

    Errno(int value) {
        this.value = value;
    }

    /** The positive errno number, e.g. 22 for EINVAL. */
    public int value() {
        return value;
    }

    /** "EINVAL (22)", the form our messages use. */
    public String describe() {
        return name() + " (" + value + ")";
    }
}
