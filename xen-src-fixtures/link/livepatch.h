/*
 * Our own declaration of the payload metadata as create-diff-object emits it (layout facts from
 * xen/include/public/sysctl.h: struct livepatch_func, payload version 2, 104 bytes on x86_64).
 */
struct lp_func {
    const char *name;
    void *new_addr;
    void *old_addr;
    unsigned int new_size;
    unsigned int old_size;
    unsigned char version;
    unsigned char reserved[39];
    unsigned char expect[32];
};

#define LP_SECTION(s) __attribute__((used, section(s)))
