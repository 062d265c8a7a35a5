#!/usr/bin/env bash
# An older session that is damaged (a directory record of session 1 pointing at its
# parent: not a tree) is refused when MNT/.sessions/1 is looked at: EIO, and one
# message that names the session, the block where it starts, the block of its own
# damage and what to do.  The newest session (the mount) and session 2 are not
# affected.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

S=$T/src
mkdir -p "$S/a/b/c" "$S/a/e"
echo one >"$S/a/f"
xorriso -outdev "$T/disc.iso" -map "$S" / -commit >/dev/null 2>&1 || fail "xorriso: session 1"
echo two >"$S/g"
xorriso -indev "$T/disc.iso" -outdev "$T/disc.iso" -map "$S" / -commit >/dev/null 2>&1 ||
    fail "xorriso: session 2"
echo three >"$S/h"
xorriso -indev "$T/disc.iso" -outdev "$T/disc.iso" -map "$S" / -commit >/dev/null 2>&1 ||
    fail "xorriso: session 3"
start=$(xorriso -indev "$T/disc.iso" -toc 2>/dev/null | awk '/^ISO session/ && $4 == 1 {print $6}')
[ -n "$start" ] || fail "no session 1 in the table of contents"

# session 1's directory A/B points at A (its parent): prints the block of that record
bad=$(python3 - "$T/disc.iso" "$start" <<'EOF'
import struct, sys
img, start = sys.argv[1], int(sys.argv[2])
data = bytearray(open(img, "rb").read())
def records(lba, size):
    for b in range((size + 2047) // 2048):
        off = (lba + b) * 2048; end = off + 2048
        while off < end and data[off]:
            nl = data[off + 32]
            yield off, bytes(data[off + 33:off + 33 + nl]).split(b";")[0].decode("latin-1")
            off += data[off]
def extent(off): return struct.unpack_from("<I", data, off + 2)[0], struct.unpack_from("<I", data, off + 10)[0]
root = (start + 16) * 2048 + 156
a = next(o for o, n in records(*extent(root)) if n == "A")
b = next(o for o, n in records(*extent(a)) if n == "B")
lba, size = extent(a)
struct.pack_into("<I", data, b + 2, lba); struct.pack_into(">I", data, b + 6, lba)
struct.pack_into("<I", data, b + 10, size); struct.pack_into(">I", data, b + 14, size)
open(img, "wb").write(data)
print(b // 2048)
EOF
) || fail "could not damage session 1"

mount_disc "$T/disc.iso"
[ "$(cat "$MNT/h")" = three ] || fail "the mount does not show session 3"
for _ in 1 2; do
    err=$(ls "$MNT/.sessions/1" 2>&1) && fail "the damaged session 1 was listed: $err"
    case "$err" in *"Input/output error"*) ;; *) fail "ls of session 1: '$err'" ;; esac
done
said=$(daemon_said)
[ "$(grep -c . <<<"$said")" = 1 ] || fail "not one message for session 1: $said"
grep -qF "session 1 of '$T/disc.iso'" <<<"$said" || fail "the message does not name session 1: $said"
grep -qF "at block $start is damaged" <<<"$said" ||
    fail "the message does not name block $start, where session 1 starts: $said"
grep -qF "at block $bad;" <<<"$said" || fail "the message does not name block $bad of the damage: $said"
grep -qF "copy what you need" <<<"$said" || fail "the message does not say what to do: $said"
ok "the damaged session 1: EIO, one message naming it, block $start and block $bad"

[ "$(cat "$MNT/.sessions/2/g")" = two ] || fail "session 2 is not shown"
[ ! -e "$MNT/.sessions/2/h" ] || fail "session 2 shows a file of session 3"
[ "$(cat "$MNT/.sessions/3/h")" = three ] || fail "session 3 is not shown"
echo four >"$MNT/i" || fail "the mount is not writable"
sync "$MNT" || fail "sync after session 1 was refused"
[ "$(cat "$MNT/.sessions/4/i")" = four ] || fail "session 4 is not shown"
fusermount3 -u "$MNT"
wait "$PID" || fail "discfs exited with $?"
PID=
ok "sessions 2 to 4 and the mount are not affected"
