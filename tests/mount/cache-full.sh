#!/usr/bin/env bash
# A full cache filesystem (issue 8, defect 9): a change that does not fit in the
# journal fails with ENOSPC and changes nothing; once space is freed, changes go
# through again without a remount, and everything acknowledged is committed.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "mounting a small tmpfs for the cache needs root"
mkdir -p "$T/small"
mount -t tmpfs -o size=1m tmpfs "$T/small" || skip "cannot mount a tmpfs here"
trap 'umount -l "$T/small" 2>/dev/null; cleanup' EXIT
CACHE=$T/small/cache

IMG=$T/disc.iso
mount_disc "$IMG"
mkdir "$MNT/before" || fail "mkdir failed with room in the cache"
# fill the cache's filesystem from outside
dd if=/dev/zero of="$T/small/filler" bs=4k 2>/dev/null || true
n=0
while mkdir "$MNT/d$n" 2>"$T/err"; do
    n=$((n + 1))
    [ $n -lt 2000 ] || fail "the full cache never refused a change"
done
grep -q "No space left on device" "$T/err" || fail "a change into a full cache: $(cat "$T/err"), not ENOSPC"
[ ! -e "$MNT/d$n" ] || fail "the refused mkdir is there anyway"
grep -q "until space is freed in the cache" "$LOG" || fail "the log does not say that the cache is full"
rm "$T/small/filler"
mkdir "$MNT/after" || fail "after space was freed, a change still fails"
echo data >"$MNT/after/file" || fail "after space was freed, a write still fails"
sync "$MNT" || fail "the commit after the full cache failed"
: >"$LOG"
unmount_disc
extract_newest "$IMG" "$T/out"
[ -d "$T/out/before" ] && [ -d "$T/out/after" ] && [ "$(cat "$T/out/after/file")" = data ] ||
    fail "the changes around the full cache were not committed"
[ "$(ls -d "$T/out"/d* | wc -l)" -eq "$n" ] || fail "expected $n directories made before the cache was full"
ok "a full cache refuses changes with ENOSPC, and takes them again once there is room"
