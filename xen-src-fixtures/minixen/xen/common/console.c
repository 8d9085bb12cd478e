/*
 * A console that only fills a ring buffer.  printk() understands %s, %d,
 * %u, %x and %%, enough for this tree.  Two functions keep a static local
 * called "lines" each, so gcc names them lines.0 and lines.1.
 */
#include <xen/lib.h>

static char conring[4096];
static unsigned int conring_prod;

static void putc_ring(char c)
{
    conring[conring_prod++ % sizeof(conring)] = c;
}

static void put_number(unsigned long v, unsigned int base, int negative)
{
    char digits[24];
    unsigned int i = 0;

    if ( negative )
        putc_ring('-');
    do {
        digits[i++] = "0123456789abcdef"[v % base];
        v /= base;
    } while ( v );
    while ( i )
        putc_ring(digits[--i]);
}

size_t strlen(const char *s)
{
    const char *p = s;

    while ( *p )
        p++;
    return p - s;
}

int printk(const char *fmt, ...)
{
    static unsigned int lines;
    __builtin_va_list args;
    unsigned int start = conring_prod;

    __builtin_va_start(args, fmt);
    for ( ; *fmt; fmt++ )
    {
        if ( *fmt != '%' )
        {
            if ( *fmt == '\n' )
                lines++;
            putc_ring(*fmt);
            continue;
        }
        switch ( *++fmt )
        {
        case 's':
        {
            const char *s = __builtin_va_arg(args, const char *);

            while ( s && *s )
                putc_ring(*s++);
            break;
        }
        case 'd':
        {
            int d = __builtin_va_arg(args, int);

            put_number(d < 0 ? -(long)d : d, 10, d < 0);
            break;
        }
        case 'u':
            put_number(__builtin_va_arg(args, unsigned int), 10, 0);
            break;
        case 'x':
            put_number(__builtin_va_arg(args, unsigned int), 16, 0);
            break;
        case '\0':
            fmt--;
            break;
        default:
            putc_ring(*fmt);
            break;
        }
    }
    __builtin_va_end(args);
    return conring_prod - start;
}

unsigned int console_lines(void)
{
    static unsigned int lines;

    return ++lines;
}
