#!/bin/bash
# Usage: check-compiles.sh [OUTDIR]
#
# Compiles orig.c and patched.c of every case with ./CFLAGS, -I include,
# the case's "cflags:" and each of its "cflags-variants:" (split on "|").
# Like the upstream tool, both sides are compiled under the same file name
# (<case>.c, from their own directory) so STT_FILE symbols and __FILE__
# strings are equal:
#   OUTDIR/<case>/{orig,patched}/<case>.c  and  <case>.o  (<case>.vN.o per variant)
# Without OUTDIR a temporary directory is used and removed.  Exits 1 if any
# compile fails.  CC may be overridden.
set -u

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ge 1 ]; then
    out=$1
    mkdir -p "$out"
else
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
CC=${CC:-gcc}
read -r -a base < "$here/CFLAGS"

failed=()
count=0
for dir in "$here"/*/; do
    case=$(basename "$dir")
    [ -f "$dir/expect" ] || continue
    # Tokens are split on whitespace only; quotes stay part of the argument.
    read -r -a extra <<< "$(sed -n 's/^cflags:[[:space:]]*//p' "$dir/expect")"
    variants=$(sed -n 's/^cflags-variants:[[:space:]]*//p' "$dir/expect")
    for side in orig patched; do
        mkdir -p "$out/$case/$side"
        cp "$dir/$side.c" "$out/$case/$side/$case.c"
        if [ -z "$variants" ]; then
            objs=("$case.o:")
        else
            objs=()
            n=1
            IFS='|' read -r -a vs <<< "$variants"
            for v in "${vs[@]}"; do
                objs+=("$case.v$n.o:$v")
                n=$((n + 1))
            done
        fi
        for spec in "${objs[@]}"; do
            obj=${spec%%:*}
            read -r -a vflags <<< "${spec#*:}"
            count=$((count + 1))
            if ! (cd "$out/$case/$side" &&
                  $CC "${base[@]}" -I"$here/include" "${extra[@]}" "${vflags[@]}" \
                      -c "$case.c" -o "$obj"); then
                failed+=("$case/$side/$obj")
            fi
        done
    done
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "FAILED to compile: ${failed[*]}" >&2
    exit 1
fi
echo "all $count objects compiled"
