#ifndef ASM_TRAPS_H
#define ASM_TRAPS_H

int read_guest_word(const unsigned long *ptr, unsigned long *val);
int check_trap_nr(unsigned int trapnr);

#endif /* ASM_TRAPS_H */
