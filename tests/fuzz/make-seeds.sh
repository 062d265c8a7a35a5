#!/usr/bin/env bash
# tests/fuzz/make-seeds.sh OUTDIR [DISCFS]: write the seed images of the fuzzer
# into OUTDIR: small images made by xorriso (Rock Ridge, Joliet, plain ISO 9660,
# as -outdev and as mkisofs make them, two sessions, a deep tree, hard links,
# special files, long names and symlinks, xattrs and ACLs, zisofs versions 1
# and 2, gzip, MD5 tags, El Torito), by genisoimage (relocated directories,
# Joliet without Rock Ridge at block 0) and, with DISCFS (the binary, e.g.
# build/fs/discfs) and /dev/fuse, by discfs mounts (two sessions with xattrs,
# ACLs, symlinks, hard links, times outside what Rock Ridge holds).  Each stays
# under 200 KiB (-padding 0, the zeros after the newest session cut off).  The
# seeds are where fuzzing starts; the regression corpus is corpus/ (README.md).
set -euo pipefail
out=${1:?usage: make-seeds.sh OUTDIR [DISCFS]}
discfs=${2:-}
mkdir -p "$out"
out=$(cd "$out" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/discfs-seeds.XXXXXX")
trap 'fusermount3 -u -z "$T/mnt" 2>/dev/null || true; rm -rf "$T"' EXIT

x() { xorriso -padding 0 "$@" >"$T/xorriso.log" 2>&1 || { cat "$T/xorriso.log" >&2; exit 1; }; }

# a small tree: files of a few sizes, directories, symlinks
S=$T/src
mkdir -p "$S/dir/sub" "$S/empty"
printf 'hello\n' >"$S/a.txt"
head -c 3000 /dev/zero | tr '\0' 'b' >"$S/dir/b.txt"
: >"$S/dir/zero-length"
ln -s a.txt "$S/link"
ln -s ../../a.txt/./x/ "$S/dir/sub/odd-link"
ln -s "$(printf 'long/%.0s' $(seq 60))target" "$S/dir/long-link"
touch -d '1999-12-31 23:59:59.123456789' "$S/a.txt"

x -outdev "$out/rr.iso" -map "$S" /
x -outdev "$out/rr-joliet.iso" -joliet on -map "$S" /
x -outdev "$out/joliet-only.iso" -rockridge off -joliet on -map "$S" /
x -outdev "$out/plain.iso" -rockridge off -joliet off -map "$S" /
x -outdev "$out/md5.iso" -md5 on -map "$S" /
# as mkisofs makes them: one session at block 0, no multi-session superblock
x -as mkisofs -o "$out/mkisofs-rr-joliet.iso" -R -J "$S"
if command -v genisoimage >/dev/null; then # xorriso always writes Rock Ridge
    genisoimage -quiet -J -o "$out/genisoimage-joliet.iso" "$S" 2>/dev/null # skips symlinks
fi

# several sessions, each changing the tree (two: three do not fit in 200 KiB)
x -outdev "$out/sessions.iso" -md5 on -map "$S/a.txt" /a.txt -map "$S/link" /link -commit
x -dev "$out/sessions.iso" -joliet on -md5 on -map "$S/dir/b.txt" /second/b.txt -rm /a.txt -- \
    -commit

# a deep tree: Rock Ridge relocates what lies below depth 8 (CL, PL, RE)
d=$T/deep
p=$d
for i in $(seq 12); do p=$p/level$i; done
mkdir -p "$p"
echo deep >"$p/file"
x -outdev "$out/deep.iso" -map "$d" /
x -outdev "$out/deep-joliet.iso" -joliet on -compliance deep_paths_off -map "$d" /
# ... which xorriso does not need, genisoimage does: RR_MOVED, CL, PL, RE
if command -v genisoimage >/dev/null; then
    genisoimage -quiet -R -o "$out/deep-genisoimage.iso" "$d"
fi

# hard links, special files, long names
H=$T/hard
mkdir -p "$H/d"
echo shared >"$H/one"
ln "$H/one" "$H/d/two"
ln -s one "$H/sym"
ln "$H/sym" "$H/d/sym2"
mkfifo "$H/fifo"
mknod "$H/chr" c 1 3 2>/dev/null || true
mknod "$H/blk" b 7 0 2>/dev/null || true
touch "$H/$(printf 'n%.0s' $(seq 200))"
touch "$H/$(printf '\xe9t\xe9')"
x -outdev "$out/hardlinks.iso" -hardlinks on -joliet on -map "$H" /

# xattrs and ACLs (AAIP), set in the image (an empty value never last: libisofs
# 1.5.4 cannot decode that, burn/xattr.c)
x -outdev "$out/xattr.iso" -xattr any -acl on -map "$S" / \
    -setfattr user.empty '' /a.txt -- \
    -setfattr user.one 'value one' /a.txt -- \
    -setfattr user.big "$(head -c 600 /dev/zero | tr '\0' v)" /dir/b.txt -- \
    -setfattr trusted.t 'x' /dir -- \
    -setfacl u::rw-,u:1000:rw-,g::r--,g:100:r--,m::rw-,o::r-- /a.txt -- \
    -setfacl_r u::rwx,u:1000:rwx,g::r-x,m::rwx,o::r-x,d:u::rwx,d:u:1000:rwx,d:g::r-x,d:m::rwx,d:o::--- /dir --

# compressed content: zisofs versions 1 and 2, gzip; files of one and of two
# blocks of 32 KiB, and one that does not compress
Z=$T/z
mkdir -p "$Z"
printf 'hello\n' >"$Z/small"
python3 -c 'import sys; sys.stdout.write("".join("line %d of some text\n" % i for i in range(2000)))' >"$Z/text"
head -c 40000 /dev/zero >"$Z/zeros"
head -c 3000 /dev/urandom >"$Z/random"
x -outdev "$out/zisofs.iso" -map "$Z" / -set_filter_r --zisofs / --
x -outdev "$out/zisofs-v2.iso" -zisofs version_2=on:block_size_v2=32k -map "$Z" / \
    -set_filter_r --zisofs / --
x -outdev "$out/gzip.iso" -map "$Z" / -set_filter_r --gzip / --

# El Torito: a boot catalog node
mkdir -p "$T/boot"
head -c 2048 /dev/zero >"$T/boot/boot.img"
x -outdev "$out/eltorito.iso" -map "$T/boot" / -boot_image any bin_path=/boot.img \
    -boot_image any emul_type=no_emulation

# made by discfs: two sessions of what a mount writes
if [ -n "$discfs" ] && [ -c /dev/fuse ]; then
    M=$T/mnt
    mkdir -p "$M"
    mount_commit() { # IMAGE COMMANDS: mount, run them in $M, unmount (commits)
        "$discfs" "$1" "$M" -f -o cache="$T/cache" &
        local pid=$!
        for _ in $(seq 200); do mountpoint -q "$M" && break; sleep 0.05; done
        (cd "$M" && eval "$2")
        fusermount3 -u "$M"
        wait "$pid"
    }
    # session 1 takes 32 blocks, so that session 2 starts at block 64
    mount_commit "$out/discfs.iso" 'echo one >f'
    # a 60000-byte xattr: its AAIP takes a chain of 35 continuation areas
    mount_commit "$out/discfs-60000-byte-xattr.iso" \
        ': >big; setfattr -n user.big -v "$(head -c 60000 /dev/zero | tr "\\0" v)" big'
    mount_commit "$out/discfs.iso" '
        mkdir -p d/e; mv f d/e/f; echo two >g; ln g d/g2; ln -s d/e/f sym; ln -s "x/../" odd
        mkfifo fifo; setfattr -n user.a -v "attr" g; setfattr -n user.empty g
        setfacl -m u:1000:r-- g; setfacl -d -m u:1000:rwx d
        touch -d "2200-01-01 00:00:00.5" d/e/f; touch -d "1960-01-01 12:00:00.25" g'
fi

# the zeros after the newest session go: they read as zeros anyway
for f in "$out"/*.iso; do
    python3 -c '
import sys
p = sys.argv[1]
d = open(p, "rb").read()
n = (len(d.rstrip(b"\0")) + 2047) // 2048 * 2048
open(p, "wb").write(d[:n])' "$f"
done
ls -l "$out" >&2
