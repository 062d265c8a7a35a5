#!/usr/bin/env bash
# Whatever the mount accepts the next commit can write; what no session can hold is
# refused at the call; a disc entry that cannot be written again as it is named is
# shown under a name that can, so that it can be renamed or removed (issue 8, defect 4).
. "$(dirname "$0")/lib.sh"

IMG=$T/disc.iso
mount_disc "$IMG"
c255=$(head -c 255 /dev/zero | tr '\0' 'c')
t1023=$c255/$c255/$c255/$c255                       # 4 * 255 + 3 = 1023 bytes
t1024=$c255/$c255/$c255/${c255:0:251}/xxxx           # 3 * 256 + 251 + 5 = 1024 bytes
[ ${#t1023} -eq 1023 ] || fail "the test's target is ${#t1023} bytes"
ln -s "$t1023" "$MNT/long-target" || fail "a symlink target of 1023 bytes was refused"
[ ${#t1024} -eq 1024 ] || fail "the test's long target is ${#t1024} bytes"
err=$(ln -s "$t1024" "$MNT/too-long" 2>&1) && fail "a symlink target of 1024 bytes was accepted"
case "$err" in *"File name too long"*) ;; *) fail "a symlink target of 1024 bytes: '$err', not ENAMETOOLONG" ;; esac
ln -s "$c255" "$MNT/long-component" || fail "a symlink target of one 255-byte name was refused"
err=$(ln -s "${c255}c" "$MNT/too-long-component" 2>&1) && fail "a symlink target of one 256-byte name was accepted"
case "$err" in *"File name too long"*) ;; *) fail "a 256-byte name in a target: '$err', not ENAMETOOLONG" ;; esac
n255=$(head -c 255 /dev/zero | tr '\0' 'n')
echo ok >"$MNT/$n255" || fail "a 255-byte name was refused"
err=$(echo no 2>&1 >"$MNT/${n255}x") && fail "a 256-byte name was accepted"
case "$err" in *"File name too long"*) ;; *) fail "a 256-byte name: '$err', not ENAMETOOLONG" ;; esac
sync "$MNT" || fail "the commit of what the mount accepted failed"
unmount_disc
extract_newest "$IMG" "$T/out"
[ "$(readlink "$T/out/long-target")" = "$t1023" ] || fail "the 1023-byte symlink target did not read back"
[ "$(readlink "$T/out/long-component")" = "$c255" ] || fail "a 255-byte symlink target did not read back"
[ "$(cat "$T/out/$n255")" = ok ] || fail "the 255-byte name did not read back"
ok "symlink targets up to 1023 bytes (names in them up to 255) and names up to 255 are written, longer ones refused at the call"

# a hostile disc: Rock Ridge names "." and ".." (patched into an xorriso image)
H=$T/hostile.iso
mkdir -p "$T/h/sub"
echo dot >"$T/h/q"
echo dotdot >"$T/h/sub/qq"
echo keep >"$T/h/keep"
xorriso -outdev "$H" -map "$T/h" / -commit >/dev/null 2>&1 || fail "xorriso could not make the test image"
python3 - "$H" <<'PY'
import sys
p = sys.argv[1]
d = open(p, "rb").read()
for old, new in ((b"NM\x06\x01\x00q", b"NM\x06\x01\x00."), (b"NM\x07\x01\x00qq", b"NM\x07\x01\x00..")):
    assert d.count(old) == 1, old
    d = d.replace(old, new)
open(p, "wb").write(d)
PY
mount_disc "$H"
grep -q "shown as '_dot_~" "$LOG" || fail "the entry named '.' was not reported"
grep -q "shown as '_dotdot_~" "$LOG" || fail "the entry named '..' was not reported"
: >"$LOG"
"$DISCFS" status "$MNT" >/dev/null && "$DISCFS" inspect "$H" --cache "$CACHE" >/dev/null ||
    fail "status or inspect of a disc with entries named '.' and '..' failed"
grep -q "shown as" "$LOG" && fail "discfs status reported the renamed entries again: $(cat "$LOG")"
dot=$(cd "$MNT" && ls -d _dot_~*) || fail "the entry named '.' is not shown under a new name"
[ "$(cat "$MNT/$dot")" = dot ] || fail "the entry named '.' does not read as its content"
mv "$MNT/sub/"_dotdot_~* "$MNT/sub/renamed" || fail "the entry named '..' cannot be renamed"
echo new >"$MNT/new"
sync "$MNT" || fail "a commit on a disc with entries named '.' and '..' failed"
rm "$MNT/$dot" || fail "the entry named '.' cannot be removed"
sync "$MNT" || fail "the commit after removing the renamed entry failed"
unmount_disc
extract_newest "$H" "$T/hout"
[ "$(cat "$T/hout/sub/renamed")" = dotdot ] || fail "the renamed entry did not read back"
[ ! -e "$T/hout/$dot" ] || fail "the removed entry is still there"
[ "$(cat "$T/hout/keep")" = keep ] || fail "an ordinary entry of the hostile disc was lost"
ok "entries named '.' and '..' on a disc are shown renamed, can be renamed and removed, and commit"

# a size no file of the medium can have is EFBIG, not ENOSPC (pjdfstest truncate/12):
# an image file has 2^32 blocks of 2048 bytes at most
IMG3=$T/big.iso
mount_disc "$IMG3"
echo x >"$MNT/f"
for size in 999999999999999 $((1 << 43 + 1)); do
    err=$(truncate -s "$size" "$MNT/f" 2>&1) && fail "a truncate to $size bytes was accepted"
    case "$err" in *"File too large"*) ;; *) fail "a truncate to $size bytes: '$err', not EFBIG" ;; esac
done
err=$(python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_WRONLY); os.pwrite(fd, b"x", 1 << 43)' \
    "$MNT/f" 2>&1) && fail "a write at 8 TiB was accepted"
case "$err" in *"File too large"*) ;; *) fail "a write at 8 TiB: '$err', not EFBIG" ;; esac
[ "$(cat "$MNT/f")" = x ] || fail "the refused calls changed the file"
unmount_disc
ok "a size beyond what the medium can ever hold is EFBIG"
