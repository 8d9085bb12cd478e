#ifndef XEN_HYPERCALL_H
#define XEN_HYPERCALL_H

/* do_foo() in common/foo.c, compat_foo() from common/compat/foo.c */
long do_foo(unsigned int cmd, unsigned long arg);
int compat_foo(unsigned int cmd, unsigned int arg);

#endif /* XEN_HYPERCALL_H */
