#!/usr/bin/env bash
# The stage is found again by the disc it belongs to in every crash window of a
# commit (issue 8, defect 6), on an image file.  The daemon kills itself at named
# points (DISCFS_TEST_CRASH, burn/disc.h); after each, a mount of the image with the
# same cache must show exactly the changes, once, and leave no stage behind that
# nothing will ever clear.
. "$(dirname "$0")/lib.sh"

IMG=$T/disc.iso
echo one >"$T/one"
xorriso -outdev "$IMG" -map "$T/one" /one -commit >/dev/null 2>&1 || fail "xorriso could not make $IMG"

stages() { find "$CACHE" -mindepth 1 -maxdepth 1 -type d | wc -l; }

# crash_at POINT FILE: stage FILE, commit with the daemon set to die at POINT
crash_at() {
    DISCFS_PREFIX=(env "DISCFS_TEST_CRASH=$1")
    mount_disc "$IMG"
    DISCFS_PREFIX=()
    head -c 200000 /dev/urandom >"$T/$2"
    cp "$T/$2" "$MNT/$2"
    if sync "$MNT" 2>/dev/null; then fail "$1: the daemon did not die in the commit"; fi
    wait "$PID" 2>/dev/null && fail "$1: the daemon was not killed"
    PID=
    fusermount3 -u -z "$MNT" 2>/dev/null || true
}

# the session was written, the process died before it was read back and the stage
# moved on: the changes are on the disc, the old stage goes, nothing is replayed
n=$(sessions "$IMG")
crash_at after-write a
[ "$(sessions "$IMG")" -eq $((n + 1)) ] || fail "after-write: the session was not written"
mount_disc "$IMG"
grep -q "were written as session $((n + 1)) (the mount that wrote it stopped before it cleared its stage): removed" "$LOG" ||
    fail "after-write: the committed stage was not recognised and removed"
grep -q "pending changes" "$LOG" && fail "after-write: changes already on the disc were replayed"
cmp "$T/a" "$MNT/a" || fail "after-write: the file is not in the mount"
sync "$MNT"
[ "$(sessions "$IMG")" -eq $((n + 1)) ] || fail "after-write: the changes were committed twice"
: >"$LOG"
unmount_disc
[ "$(stages)" -le 1 ] || fail "after-write: $(stages) stages are left in the cache"
ok "killed after the session was written: the stage is recognised as committed and removed"

# the same, after the new stage was started but before the old one was removed
n=$(sessions "$IMG")
crash_at before-old-stage-removed b
mount_disc "$IMG"
grep -q "were written as session $((n + 1))" "$LOG" || fail "before-old-stage-removed: the old stage was not removed"
grep -q "pending changes" "$LOG" && fail "before-old-stage-removed: changes on the disc were replayed"
cmp "$T/b" "$MNT/b" || fail "before-old-stage-removed: the file is not in the mount"
: >"$LOG"
unmount_disc
[ "$(sessions "$IMG")" -eq $((n + 1)) ] || fail "before-old-stage-removed: a session too many"
[ "$(stages)" -le 1 ] || fail "before-old-stage-removed: $(stages) stages are left in the cache"
ok "killed after the new stage began: the old one is removed, nothing replayed"

# the intent was noted, nothing written: the stage is replayed and written once
n=$(sessions "$IMG")
crash_at before-write c
[ "$(sessions "$IMG")" -eq "$n" ] || fail "before-write: a session was written"
mount_disc "$IMG"
grep -q "pending changes of an earlier mount were found" "$LOG" || fail "before-write: the stage was not replayed"
cmp "$T/c" "$MNT/c" || fail "before-write: the file is not back"
: >"$LOG"
unmount_disc
[ "$(sessions "$IMG")" -eq $((n + 1)) ] || fail "before-write: the changes were not committed once"
extract_newest "$IMG" "$T/out"
for f in one a b c; do cmp "$T/$f" "$T/out/$f" || fail "the newest session lacks '$f'"; done
xorriso -md5 on -indev "$IMG" -check_md5_r sorry / -- 2>&1 | grep -q 'match' ||
    fail "xorriso -check_md5_r does not find the MD5s matching"
ok "killed before the first block: the stage is replayed and written once"
