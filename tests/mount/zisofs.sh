#!/usr/bin/env bash
# Files stored zisofs-compressed (xorriso -set_filter --zisofs) read as their
# uncompressed bytes, whole and in ranges; a commit keeps them compressed where
# they are; a change copies them up decompressed.  Checked against the sources and
# with osirrox.
. "$(dirname "$0")/lib.sh"
command -v osirrox >/dev/null || skip "osirrox is not installed"
command -v isoinfo >/dev/null || skip "isoinfo is not installed (genisoimage)"

S=$T/src
mkdir -p "$S/sub"
python3 - "$S" <<'EOF'
import os, random, sys
s = sys.argv[1]
random.seed(7)
open(os.path.join(s, "text"), "w").write("".join(random.choice("abcdefgh \n") for _ in range(300000)))
open(os.path.join(s, "sub/zeros-and-text"), "wb").write(b"\0" * 200000 + b"tail\n" * 5000 + b"\0" * 70000)
open(os.path.join(s, "sub/exact"), "w").write("0123456789abcdef" * 8192)  # 2 blocks of 64 KiB
EOF
xorriso -outdev "$T/z.iso" -map "$S" / -set_filter_r --zisofs / -- -commit >/dev/null 2>&1 ||
    fail "xorriso could not make a zisofs image"
# stored_size IMAGE PATH: the size of PATH's data on the disc (isoinfo, no Rock Ridge sizes)
stored_size() { isoinfo -R -l -i "$1" 2>/dev/null | awk -v n="$2" '$NF == n { print $5; exit }'; }
[ "$(stored_size "$T/z.iso" text)" -lt 300000 ] || fail "xorriso did not compress 'text'"

same_as_source() {
    for f in text sub/zeros-and-text sub/exact; do
        cmp "$MNT/$f" "$S/$f" || fail "$1: $f does not read as its uncompressed bytes"
    done
    cmp <(dd if="$MNT/text" bs=1000 skip=70 count=3 2>/dev/null) \
        <(dd if="$S/text" bs=1000 skip=70 count=3 2>/dev/null) || fail "$1: a range of text reads wrong"
}

mount_disc "$T/z.iso"
[ "$(stat -c %s "$MNT/text")" = 300000 ] || fail "text does not show its uncompressed size"
same_as_source "first mount"
ok "zisofs files read as their uncompressed bytes"

echo new >"$MNT/new"
unmount_disc
[ "$(stored_size "$T/z.iso" text)" -lt 300000 ] || fail "the commit did not keep 'text' compressed"
rm -rf "$CACHE"
mount_disc "$T/z.iso"
same_as_source "after a commit"
osirrox -indev "$T/z.iso" -extract /text "$T/out-text" >/dev/null 2>&1 || fail "osirrox cannot extract text"
cmp "$T/out-text" "$S/text" || fail "osirrox reads text wrong after the commit"
ok "a commit keeps zisofs files compressed and readable"

echo appended >>"$MNT/sub/exact"
cat "$S/sub/exact" - <<<appended >"$T/exact-want"
cmp "$MNT/sub/exact" "$T/exact-want" || fail "the appended file reads wrong in the mount"
unmount_disc
rm -rf "$CACHE"
mount_disc "$T/z.iso" -o ro
cmp "$MNT/sub/exact" "$T/exact-want" || fail "the appended file reads wrong after the commit"
cmp "$MNT/text" "$S/text" || fail "text reads wrong after another file was copied up"
fusermount3 -u "$MNT"
wait "$PID"
PID=
ok "a change copies a zisofs file up decompressed"
