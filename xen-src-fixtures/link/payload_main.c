/* The changed patch_me and its metadata; the hook data symbol is what LIVEPATCH_LOAD_HOOK makes. */
#include "livepatch.h"

extern int shared_counter;
extern int bump(int by);
extern int helper_scale(int x);

int patch_me(int x);
int patch_me(int x)
{
    int i, r = 0;
    for (i = 0; i < x; i++)
        r += helper_scale(bump(i)) - shared_counter;
    return r;
}

static void on_load(void) { shared_counter = 0; }

void (*livepatch_load_data_on_load)(void) LP_SECTION(".livepatch.hooks.load") = on_load;

struct lp_func livepatch_patch_me LP_SECTION(".livepatch.funcs") = {
    .name = "patch_me",
    .new_addr = patch_me,
    .old_addr = 0,
    .new_size = 0x40,
    .old_size = 0x40,
    .version = 2,
};
