/*
 * Version information.  The strings come from include/xen/compile.h,
 * which the Makefile generates from XEN_BUILD_DATE, XEN_BUILD_TIME,
 * XEN_WHOAMI, XEN_DOMAIN and XEN_BUILD_HOST.
 */
#include <xen/compile.h>
#include <xen/lib.h>
#include <xen/version.h>

const char *xen_compile_date(void)
{
    return XEN_COMPILE_DATE;
}

const char *xen_compile_time(void)
{
    return XEN_COMPILE_TIME;
}

const char *xen_compile_by(void)
{
    return XEN_COMPILE_BY;
}

const char *xen_compile_domain(void)
{
    return XEN_COMPILE_DOMAIN;
}

const char *xen_compile_host(void)
{
    return XEN_COMPILE_HOST;
}

const char *xen_compiler(void)
{
    return XEN_COMPILER;
}

unsigned int xen_major_version(void)
{
    return XEN_VERSION;
}

unsigned int xen_minor_version(void)
{
    return XEN_SUBVERSION;
}

const char *xen_extra_version(void)
{
    return XEN_EXTRAVERSION;
}

const char *xen_changeset(void)
{
    return XEN_CHANGESET;
}

/* The linker script brackets the GNU build-id note with these symbols. */
extern const char __note_gnu_build_id_start[], __note_gnu_build_id_end[];

struct elf_note {
    u32 namesz, descsz, type;
};

int xen_build_id(const void **p, unsigned int *len)
{
    const struct elf_note *n = (const void *)__note_gnu_build_id_start;

    if ( __note_gnu_build_id_end - __note_gnu_build_id_start < (long)sizeof(*n) ||
         n->type != 3 || n->namesz != 4 )
        return -61;    /* -ENODATA */
    *p = (const char *)(n + 1) + 4;
    *len = n->descsz;
    return 0;
}

void print_version(void)
{
    printk("Xen version %u.%u%s (%s@%s) (%s) %s %s\n",
           xen_major_version(), xen_minor_version(), xen_extra_version(),
           xen_compile_by(), xen_compile_domain(), xen_compiler(),
           xen_compile_date(), xen_compile_time());
}
