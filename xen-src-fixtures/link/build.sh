#!/bin/sh
# Usage: build.sh OUTDIR [extra CFLAGS...]
# Builds the stand-in hypervisor image OUTDIR/xen-syms and the payload objects OUTDIR/payload_*.o.
set -eu
if [ $# -lt 1 ]; then
    echo "usage: $0 OUTDIR [extra CFLAGS...]" >&2
    exit 1
fi
out=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
CC=${CC:-gcc}
# Close to Xen's flags: position-independent code (rip-relative data, PLT32 calls) since the image
# lives at Xen's address above 4 GiB, split sections, ENDBR64 on every function.
base="-O2 -ffreestanding -fpie -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections -fcf-protection=full -Wall"
# Compile from the fixture directory so FILE symbols are the bare source names, as in Xen's build.
cd "$here"
$CC $base "$@" -c version.c -o "$out/version.o"
$CC $base "$@" -DVARIANT=1 -DDUP_GET=dup_get_1 -c dup.c -o "$out/dup1.o"
$CC $base "$@" -DVARIANT=2 -DDUP_GET=dup_get_2 -c dup.c -o "$out/dup2.o"
$CC $base "$@" -c other.c -o "$out/other.o"
ld -m elf_x86_64 -o "$out/xen-syms" -e _start -Ttext=0xffff82d040200000 --build-id=sha1 \
    "$out/version.o" "$out/dup1.o" "$out/dup2.o" "$out/other.o"
for p in payload_main payload_helper payload_bad; do
    $CC $base -g "$@" -c $p.c -o "$out/$p.o"
done
