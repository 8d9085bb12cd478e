#!/bin/sh
# Usage: build.sh OUTDIR [extra CFLAGS...]
# Compiles every source of this fixture to OUTDIR/<name>.o and links
# OUTDIR/prog.  Needs only gcc and binutils.  The extra CFLAGS are split on
# whitespace, so "-O1 -fcf-protection=branch" may come as one argument.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 OUTDIR [extra CFLAGS...]" >&2
    exit 1
fi
out=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"

# -fno-pie keeps the function-pointer table in .rodata and gives absolute
# relocations (R_X86_64_64 / 32S) next to the PC-relative ones.
CC=${CC:-gcc}
base="-O2 -ffunction-sections -fdata-sections -fno-pie -Wall"

objs=
for src in main.c counters.c tables.c extable.c thunks.S; do
    obj="$out/${src%.*}.o"
    # shellcheck disable=SC2086,SC2048 # word splitting of $base and $* is wanted
    $CC $base $* -c "$here/$src" -o "$obj"
    objs="$objs $obj"
done
$CC -no-pie -o "$out/prog" $objs
