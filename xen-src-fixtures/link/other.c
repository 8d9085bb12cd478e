/* Globals, a weak function, a static that shares its name with dup.c's, and functions to patch. */
int shared_counter = 1;
static int dup_counter = 3;

int bump(int by);
int patch_me(int x);
int tiny(void);
void weak_hook(void);
void _start(void);

int bump(int by)
{
    dup_counter += by;
    shared_counter += by;
    return dup_counter * shared_counter;
}

int patch_me(int x)
{
    int i, r = 0;
    for (i = 0; i < x; i++)
        r += bump(i) ^ (r << 3);
    return r;
}

__attribute__((naked)) int tiny(void) { __asm__("ret"); }

__attribute__((weak)) void weak_hook(void) { shared_counter++; }

void _start(void) { for (;;) patch_me(shared_counter); }
