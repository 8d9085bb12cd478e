/*
 * xen-hypercall OP [ARG...]: issue one raw hypercall from dom0 through /dev/xen/privcmd and print
 * its result as "rc=N" (N is Xen's return value, e.g. -1 for -EPERM). For e2e scenarios that
 * reach a patched hypercall path directly, where no tool in dom0 does. Built statically by the
 * e2e driver (host gcc) and copied into dom0 as a payload file; our own code, not Xen's or
 * Linux's: the ioctl number and argument layout are Linux's documented privcmd ABI
 * (include/uapi/xen/privcmd.h: _IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall))).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct hypercall_args {
    uint64_t op;
    uint64_t arg[5];
};

#define PRIVCMD_HYPERCALL _IOC(_IOC_NONE, 'P', 0, sizeof(struct hypercall_args))

int main(int argc, char **argv)
{
    struct hypercall_args h = { 0 };
    int fd, i;
    long rc;

    if (argc < 2 || argc > 7) {
        fprintf(stderr, "usage: xen-hypercall OP [ARG...] (at most 5 arguments)\n");
        return 2;
    }
    h.op = strtoull(argv[1], NULL, 0);
    for (i = 2; i < argc; i++)
        h.arg[i - 2] = strtoull(argv[i], NULL, 0);
    fd = open("/dev/xen/privcmd", O_RDWR);
    if (fd < 0) {
        perror("xen-hypercall: /dev/xen/privcmd");
        return 2;
    }
    /* privcmd returns Xen's result; a negative one reaches us as -1 with errno = -result. */
    rc = ioctl(fd, PRIVCMD_HYPERCALL, &h);
    if (rc == -1)
        rc = -errno;
    printf("rc=%ld\n", rc);
    close(fd);
    return 0;
}
