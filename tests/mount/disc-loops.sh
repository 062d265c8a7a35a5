#!/usr/bin/env bash
# A disc whose directory graph is not a tree (a directory record pointing at its
# parent, at the root, or at a directory another name has) is refused within
# seconds with a message naming the disc and the block, never a hang (libisofs
# and xorriso recurse for ever on such images).  A disc with relocated deep
# directories (Rock Ridge CL/RE, made by genisoimage) still mounts.
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

# refused IMAGE WHAT: the mount fails within 10 s, saying why, and mounts nothing
refused() {
    local rc=0
    : >"$LOG"
    timeout 10 "$DISCFS" "$1" "$MNT" -f -o cache="$CACHE" >"$LOG" 2>&1 || rc=$?
    [ $rc -ne 124 ] || fail "$2: the mount hung (killed after 10 s)"
    [ $rc -ne 0 ] || fail "$2: the mount succeeded"
    ! mountpoint -q "$MNT" || fail "$2: something is mounted"
    grep -q "is not a tree" "$LOG" || fail "$2: the message does not say why: $(cat "$LOG")"
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
