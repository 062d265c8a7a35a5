#!/usr/bin/env bash
# A 2-session image made by xorriso mounts with its newest tree; the session
# discfs appends keeps every old file readable by xorriso, with its data in place.
. "$(dirname "$0")/lib.sh"
command -v osirrox >/dev/null || skip "osirrox is not installed"

IMG=$T/x.iso
D=$T/data
mkdir -p "$D/s1/sub" "$D/s2"
echo one >"$D/s1/one.txt"
echo gone >"$D/s1/gone.txt"
head -c 200000 /dev/urandom >"$D/s1/sub/blob"
echo two >"$D/s2/two.txt"
chmod 751 "$D/s1/sub"
touch -d '2005-06-07 08:09:10' "$D/s1/one.txt"

# session 1 plain, session 2 with xorriso's backup settings (AAIP, MD5, hard links)
xorriso -outdev "$IMG" -map "$D/s1" /s1 -commit >/dev/null 2>&1 || fail "xorriso session 1"
xorriso -for_backup -dev "$IMG" -map "$D/s2" /s2 -rm /s1/gone.txt -- -commit >/dev/null 2>&1 ||
    fail "xorriso session 2"
[ "$(sessions "$IMG")" -eq 2 ] || fail "xorriso did not write 2 sessions"
lba_blob=$(lba_of "$IMG" /s1/sub/blob)

mount_disc "$IMG"
[ -f "$MNT/s2/two.txt" ] || fail "the newest session's /s2/two.txt is not in the mount"
[ ! -e "$MNT/s1/gone.txt" ] || fail "a file removed in session 2 is still in the mount"
cmp "$MNT/s1/sub/blob" "$D/s1/sub/blob" || fail "on-disc data read through the mount differs"
[ "$(stat -c %a "$MNT/s1/sub")" = 751 ] || fail "mode of /s1/sub is $(stat -c %a "$MNT/s1/sub"), not 751"
[ "$(stat -c %Y "$MNT/s1/one.txt")" = "$(stat -c %Y "$D/s1/one.txt")" ] || fail "mtime of /s1/one.txt differs"
ok "the newest session of a xorriso image is mounted"

echo three >"$MNT/three.txt"
echo changed >>"$MNT/s2/two.txt"; echo changed >>"$D/s2/two.txt"
unmount_disc
[ "$(sessions "$IMG")" -eq 3 ] || fail "discfs did not append session 3"
ok "discfs appended session 3"

extract_newest "$IMG" "$T/out"
diff -r "$D/s1/sub" "$T/out/s1/sub" || fail "old data differs after the discfs session"
cmp "$D/s1/one.txt" "$T/out/s1/one.txt" || fail "/s1/one.txt differs"
cmp "$D/s2/two.txt" "$T/out/s2/two.txt" || fail "/s2/two.txt differs"
[ "$(cat "$T/out/three.txt")" = three ] || fail "/three.txt is not in the newest session"
[ "$(lba_of "$IMG" /s1/sub/blob)" = "$lba_blob" ] || fail "the discfs session rewrote /s1/sub/blob"
ok "every old file stays readable by xorriso, in place"

# the older sessions are still there, unchanged
xorriso -indev "$IMG" -load session 1 -find /s1/gone.txt 2>/dev/null | grep -q gone.txt ||
    fail "session 1 no longer has /s1/gone.txt"
ok "session 1 is untouched"
out=$(xorriso -for_backup -indev "$IMG" -check_md5_r sorry / -- 2>&1) ||
    { echo "$out" >&2; fail "xorriso -check_md5_r finds mismatches"; }
ok "xorriso -check_md5_r: every recorded MD5 matches"
