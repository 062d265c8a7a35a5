#!/usr/bin/env bash
# A disc whose directory graph is not a tree (a directory record pointing at its
# parent, at the root, or at a directory another name has; in the Joliet tree
# of a disc without Rock Ridge too) is refused within seconds with a message
# naming the disc and the block, never a hang (libisofs and xorriso recurse for
# ever on such images).  So is one whose Rock Ridge continuation areas form a
# loop, an image whose chain of sessions does not end (libisoburn searches for
# ever), and one whose El Torito boot catalog names itself as a boot image
# (libisofs crashes).  A disc with relocated deep directories (Rock Ridge CL/RE,
# made by genisoimage) still mounts.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

S=$T/src
mkdir -p "$S/a/b/c" "$S/a/e" "$S/1/2/3/4/5/6/7/8/9/10/11"
echo deep >"$S/1/2/3/4/5/6/7/8/9/10/11/f"
echo in-c >"$S/a/b/c/f"
xorriso -outdev "$T/good.iso" -map "$S" / -commit >/dev/null 2>&1 || fail "xorriso could not make good.iso"

# patch IMAGE OUT PATH TARGET: point the directory record of PATH (ISO 9660 names,
# e.g. A/B) at the extent of the directory TARGET ("" = the root)
patch() {
    python3 - "$@" <<'EOF'
import struct, sys
img, out, path, target = sys.argv[1:5]
data = bytearray(open(img, "rb").read())
def block(n): return data[n * 2048:(n + 1) * 2048]
def records(lba, size):
    for b in range((size + 2047) // 2048):
        off = (lba + b) * 2048; end = off + 2048
        while off < end and data[off]:
            ln = data[off]; nl = data[off + 32]
            yield off, bytes(data[off + 33:off + 33 + nl]).split(b";")[0].decode("latin-1")
            off += ln
def extent(off): return struct.unpack_from("<II", data, off + 2)[0], struct.unpack_from("<I", data, off + 10)[0]
root = 16 * 2048 + 156
def find(p):
    off = root
    for name in [x for x in p.split("/") if x]:
        lba, size = extent(off)
        off = next(o for o, n in records(lba, size) if n == name)
    return off
src, dst = find(path), find(target)
lba, size = extent(dst)
struct.pack_into("<I", data, src + 2, lba); struct.pack_into(">I", data, src + 6, lba)
struct.pack_into("<I", data, src + 10, size); struct.pack_into(">I", data, src + 14, size)
open(out, "wb").write(data)
EOF
}

# refused IMAGE WHAT [WHY]: the mount fails within 10 s, saying WHY (default: not a
# tree), and mounts nothing
refused() {
    local rc=0
    : >"$LOG"
    timeout 10 "$DISCFS" "$1" "$MNT" -f -o cache="$CACHE" >"$LOG" 2>&1 || rc=$?
    [ $rc -ne 124 ] || fail "$2: the mount hung (killed after 10 s)"
    [ $rc -ne 0 ] || fail "$2: the mount succeeded"
    ! mountpoint -q "$MNT" || fail "$2: something is mounted"
    grep -q "${3:-is not a tree}" "$LOG" || fail "$2: the message does not say why: $(cat "$LOG")"
    grep -qF "$1" "$LOG" || fail "$2: the message does not name the image: $(cat "$LOG")"
    [ "$(grep -c . "$LOG")" = 1 ] || fail "$2: more than one message: $(cat "$LOG")"
}

patch "$T/good.iso" "$T/parent.iso" A/B A
refused "$T/parent.iso" "a directory pointing at its parent"
patch "$T/good.iso" "$T/root.iso" A/B/C ""
refused "$T/root.iso" "a directory pointing at the root"
patch "$T/good.iso" "$T/shared.iso" A/E A/B
refused "$T/shared.iso" "two names sharing one directory"
ok "discs whose directories loop or are shared are refused at once, with one message"

# the same in the Joliet tree, which libisofs reads when there is no Rock Ridge
xorriso -outdev "$T/joliet.iso" -rockridge off -joliet on -map "$S" / -commit >/dev/null 2>&1 ||
    fail "xorriso could not make joliet.iso"
python3 - "$T/joliet.iso" "$T/joliet-loop.iso" <<'EOF'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
b = 32 + 17  # the volume descriptors of the session at block 32
while data[b * 2048] != 2:
    b += 1
root = struct.unpack_from("<I", data, b * 2048 + 156 + 2)[0]
off, n = root * 2048, 0
while data[off]:
    if n >= 2 and data[off + 25] & 2:  # a directory: point it at the root
        struct.pack_into("<I", data, off + 2, root); struct.pack_into(">I", data, off + 6, root)
        break
    off += data[off]; n += 1
open(sys.argv[2], "wb").write(data)
EOF
refused "$T/joliet-loop.iso" "a Joliet directory pointing at the root"

# continuation areas (CE) that lead back to themselves
xorriso -outdev "$T/ce.iso" -xattr on -map "$S" / \
    -setfattr user.big "$(head -c 600 /dev/zero | tr '\0' v)" /a -- -commit >/dev/null 2>&1 ||
    fail "xorriso could not make ce.iso"
python3 - "$T/ce.iso" "$T/ce-loop.iso" <<'EOF'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
def bb(off, v): struct.pack_into("<I", data, off, v); struct.pack_into(">I", data, off + 4, v)
root = struct.unpack_from("<I", data, 48 * 2048 + 156 + 2)[0]
off = root * 2048
while data[off]:  # the record of "A", its System Use entries
    ln, nl = data[off], data[off + 32]
    if bytes(data[off + 33:off + 33 + nl]) == b"A":
        e, end = off + 33 + nl + (nl + 1) % 2, off + ln
        while e + 4 <= end and not data[e:e + 2] == b"CE":
            e += data[e + 2]
        break
    off += ln
blk, at, size = (struct.unpack_from("<I", data, e + k)[0] for k in (4, 12, 20))
a = blk * 2048 + at  # the area: its first entry shrinks, a CE back to the area follows it
first = data[a + 2]
assert first >= 28 + 4
data[a + 2] = first - 28
c = a + first - 28
data[c:c + 4] = b"CE\x1c\x01"; bb(c + 4, blk); bb(c + 12, at); bb(c + 20, size)
open(sys.argv[2], "wb").write(data)
EOF
refused "$T/ce-loop.iso" "continuation areas in a loop" "form a loop"

# a session that claims 0 blocks: libisoburn would search for the next for ever
python3 - "$T/good.iso" "$T/chain.iso" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[48 * 2048 + 80:48 * 2048 + 88] = bytes(8)  # the session at 32: its volume space size
open(sys.argv[2], "wb").write(data)
EOF
refused "$T/chain.iso" "a session of 0 blocks" "search for the next session for ever"

# a loop that only the superblock (block 16: libisofs reads the newest session of
# an image file through it) leads to, not the session's own volume descriptors
python3 - "$T/good.iso" "$T/superblock.iso" <<'EOF'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
def bb(buf, off, v): struct.pack_into("<I", buf, off, v); struct.pack_into(">I", buf, off + 4, v)
def rec(name, lba):  # a directory record for the directory at LBA
    r = bytearray(34); r[0] = 34; r[25] = 2; r[28] = 1; r[32] = 1; r[33:34] = name
    bb(r, 2, lba); bb(r, 10, 2048)
    return bytes(r)
d = 25  # unused in the 64 KiB before the session at 32
data[d * 2048:d * 2048 + 102] = rec(b"\0", d) + rec(b"\1", d) + rec(b"X", d)
bb(data, 16 * 2048 + 156 + 2, d)  # the superblock's root
open(sys.argv[2], "wb").write(data)
EOF
refused "$T/superblock.iso" "a loop behind the superblock"

# an El Torito boot catalog that names itself as the boot image (libisofs crashes)
mkdir -p "$T/boot"
head -c 2048 /dev/zero >"$T/boot/boot.img"
xorriso -outdev "$T/boot.iso" -map "$T/boot" / -boot_image any bin_path=/boot.img \
    -boot_image any emul_type=no_emulation -commit >/dev/null 2>&1 || fail "xorriso could not make boot.iso"
python3 - "$T/boot.iso" "$T/boot-self.iso" <<'EOF'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
b = 32 + 17  # the boot record among the volume descriptors of the session at 32
while data[b * 2048] != 0:
    b += 1
cat = struct.unpack_from("<I", data, b * 2048 + 71)[0]
struct.pack_into("<I", data, cat * 2048 + 40, cat)  # the default entry's image: the catalog
open(sys.argv[2], "wb").write(data)
EOF
refused "$T/boot-self.iso" "a boot catalog that boots itself" "names itself as a boot image"
ok "a Joliet loop, a CE loop, an endless chain, a superblock loop, a self-booting catalog: refused"

command -v genisoimage >/dev/null || skip "genisoimage is not installed"
genisoimage -quiet -R -o "$T/deep.iso" "$S" || fail "genisoimage could not make deep.iso"
listing=$(isoinfo -l -i "$T/deep.iso" 2>/dev/null)
grep -qi rr_moved <<<"$listing" || fail "genisoimage relocated nothing"
rm -rf "$CACHE"
mount_disc "$T/deep.iso" -o ro
[ "$(cat "$MNT/1/2/3/4/5/6/7/8/9/10/11/f")" = deep ] || fail "the relocated deep file is not shown"
[ "$(cat "$MNT/a/b/c/f")" = in-c ] || fail "a/b/c/f is not shown"
fusermount3 -u "$MNT"
wait "$PID"
PID=
ok "a disc with relocated deep directories (Rock Ridge CL/RE, genisoimage) still mounts"
