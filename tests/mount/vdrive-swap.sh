#!/usr/bin/env bash
# vdrive-swap.sh: the disc is swapped under a mount (vdrive-ctl swap, a virtual
# CD-R).  The commit re-assesses the drive right before writing and refuses
# another disc: no WRITE reaches the drive, sync MOUNTPOINT fails with EIO, the
# message names both discs, the stage stays, on-disc data reads fail with EIO
# instead of returning the other disc's bytes.  With the right disc back the same
# commit succeeds.  A blank disc may stand in for another blank disc.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

# fsync_errno DIR: the errno of fsync() on DIR (0 = success), as sync(1) sees it
fsync_errno() {
    python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
try:
    os.fsync(fd); print(0)
except OSError as e:
    print(e.errno)' "$1"
}
EIO=5

vd
ctl create a cdr --disc-id 0x11111111 >/dev/null
ctl create b cdr --disc-id 0x22222222 --atip 97:15:17 >/dev/null
ctl load b
echo other >"$T/other"
xo "$T/w" -map "$T/other" /other -commit || fail "xorriso could not write disc b: $(cat "$T/w")"
ctl load a

# session 1 on disc a through the mount, then a staged change
mount_disc "mmc:$NODE"
head -c 200000 /dev/urandom >"$T/one"
cp "$T/one" "$MNT/one"
sync "$MNT" || fail "the first commit failed"
echo two >"$MNT/two"

# another disc: the commit is refused, nothing is written
ctl swap b
b_before=$(ctl show b | md5sum)
lines=$(log_lines)
rc=$(fsync_errno "$MNT")
[ "$rc" = $EIO ] || fail "sync with another disc in the drive: errno $rc, expected EIO"
[ "$(writes_after "$lines")" -eq 0 ] || fail "WRITE commands reached the other disc"
[ "$(ctl show b | md5sum)" = "$b_before" ] || fail "the other disc changed"
grep -q "not the mounted one" "$LOG" || fail "no message about the other disc"
grep -q "disc id 11111111" "$LOG" && grep -q "disc id 22222222" "$LOG" ||
    fail "the message does not name both discs"
ok "another disc: sync fails with EIO, no WRITE after the swap, the message names both discs"
grep "not the mounted one" "$LOG" | head -1
[ "$(cat "$MNT/two")" = two ] || fail "the staged file is gone after the refused commit"
if cat "$MNT/one" >/dev/null 2>&1; then fail "an on-disc file of disc a read from disc b"; fi
ok "the stage is intact; on-disc data of the mounted disc reads fail with EIO"

# the right disc back: the same commit succeeds, reads work again
ctl swap a
sync "$MNT" || fail "the commit with the mounted disc back failed"
cmp "$T/one" "$MNT/one" || fail "disc a reads wrong after it came back"
unmount_disc_noisy
starts=$(toc_starts)
[ "$starts" = "0 11702" ] || fail "disc a has sessions at '$starts', expected '0 11702'"
mount_disc "mmc:$NODE"
[ "$(cat "$MNT/two")" = two ] && cmp "$T/one" "$MNT/one" || fail "disc a lacks the committed files"
unmount_disc
ok "with the mounted disc back the same commit succeeds (sessions at $starts)"

# a blank disc stands in for another blank disc
ctl create c cdr --disc-id 0x33333333 >/dev/null
ctl create d cdr --disc-id 0x44444444 >/dev/null
ctl load c
mount_disc "mmc:$NODE"
echo blank >"$MNT/f"
ctl swap d
sync "$MNT" || fail "a blank disc did not stand in for the mounted blank disc"
unmount_disc
[ "$(toc_starts)" = 0 ] || fail "no session on the blank stand-in"
[ "$(status_of sessions)" = 1 ] || fail "the stand-in has $(status_of sessions) sessions"
ok "a blank disc matches a blank fingerprint"
