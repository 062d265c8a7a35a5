#!/usr/bin/env bash
# tests/fuzz/build-libisofs.sh SRC OUT: build libisofs from its source tree SRC
# (the 1.5.4 release: git a7a9c29 of libisofs) with ASan, UBSan and libFuzzer
# coverage, as OUT/libisofs.so.6, for fuzz-import under LD_LIBRARY_PATH=OUT
# (README.md).  Needs clang; the configuration is fixed here (zlib and Linux
# xattrs, as Debian's; no libacl or libjte headers are needed to read images).
set -euo pipefail
src=${1:?usage: build-libisofs.sh SRC OUT}
out=${2:?usage: build-libisofs.sh SRC OUT}
mkdir -p "$out/obj"
out=$(cd "$out" && pwd)
cd "$src"
flags=(-O1 -g -fPIC -fno-omit-frame-pointer -fsanitize=address,undefined
       -fsanitize=fuzzer-no-link -w -D_FILE_OFFSET_BITS=64 -DHAVE_STDINT_H -DHAVE_INTTYPES_H
       -DHAVE_TM_GMTOFF -DHAVE_TIMEGM -DHAVE_EACCESS -DLibisofs_with_zliB
       -DLibisofs_with_aaip_xattR -DLibisofs_with_sys_xattR)
objs=()
for c in libisofs/*.c libisofs/filters/*.c; do
    case $c in libisofs/aaip-os-*) continue ;; esac # included by aaip_0_2.c
    o=$out/obj/$(echo "$c" | tr / _).o
    clang "${flags[@]}" -c "$c" -o "$o"
    objs+=("$o")
done
clang -shared -fsanitize=address,undefined -fsanitize=fuzzer-no-link \
    -Wl,-soname,libisofs.so.6 -Wl,--version-script=libisofs/libisofs.ver \
    "${objs[@]}" -lz -lpthread -o "$out/libisofs.so.6"
echo "$out/libisofs.so.6"
