/* The three functions Xen's version is read from (xen/common/version.c has the real ones). */
int xen_major_version(void);
int xen_minor_version(void);
const char *xen_extra_version(void);

int xen_major_version(void) { return 4; }
int xen_minor_version(void) { return 17; }
const char *xen_extra_version(void) { return ".5"; }
