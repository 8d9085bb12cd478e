/* Compiled twice into the image: two runs with the FILE symbol "dup.c", each with a dup_counter. */
static int dup_counter = VARIANT;

int DUP_GET(void);
int DUP_GET(void) { return dup_counter++; }
