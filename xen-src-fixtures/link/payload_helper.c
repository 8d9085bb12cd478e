/* A new function in a second object; it reads other.c's static through create-diff-object's mangled name. */
extern int other_dup_counter __asm__("\"other.c#dup_counter\"");

int helper_scale(int x);
int helper_scale(int x) { return x * 3 + other_dup_counter; }
