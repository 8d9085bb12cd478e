#ifndef XEN_LIB_H
#define XEN_LIB_H

#include <asm/bug.h>

int printk(const char *fmt, ...) __attribute__((__format__(__printf__, 1, 2)));
unsigned int console_lines(void);
size_t strlen(const char *s);

#endif /* XEN_LIB_H */
