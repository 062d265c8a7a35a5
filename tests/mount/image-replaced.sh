#!/usr/bin/env bash
# The image file is renamed or replaced under the mount (issue 8, defect 7): nothing
# is written, neither into the file now under the name nor into the mounted one, the
# changes stay staged, the log says why; with the mounted image back under its name
# the next sync writes into it.  Also: the mount holds the image it identified, so a
# rename alone does not redirect the session.
. "$(dirname "$0")/lib.sh"

IMG=$T/a.iso
OTHER=$T/b.iso
echo a >"$T/a"
xorriso -outdev "$IMG" -map "$T/a" /a -commit >/dev/null 2>&1 || fail "xorriso could not make $IMG"
xorriso -outdev "$OTHER" -map "$T/a" /b -commit >/dev/null 2>&1 || fail "xorriso could not make $OTHER"
mount_disc "$IMG"
echo staged >"$MNT/staged"
a_sum=$(md5sum <"$IMG")
b_sum=$(md5sum <"$OTHER")

mv "$IMG" "$T/a.moved"
if sync "$MNT" 2>"$T/err"; then fail "the commit into a moved image succeeded"; fi
grep -q "the image '$IMG' was moved or removed since it was mounted; nothing was written" "$LOG" ||
    fail "the log does not say that the image was moved"
[ "$(md5sum <"$T/a.moved")" = "$a_sum" ] || fail "the moved image was written"
[ ! -e "$IMG" ] || fail "a file was made under the old name"
ok "a moved image is not written; sync fails"

cp "$OTHER" "$T/b.copy"
mv "$T/b.copy" "$IMG"   # another image under the mounted one's name
: >"$LOG"
if sync "$MNT" 2>"$T/err"; then fail "the commit into a replaced image succeeded"; fi
grep -q "Input/output error" "$T/err" || fail "sync failed, but not with EIO: $(cat "$T/err")"
grep -q "the image '$IMG' was replaced by another file since it was mounted; nothing was written" "$LOG" ||
    fail "the log does not say that the image was replaced"
[ "$(md5sum <"$IMG")" = "$b_sum" ] || fail "the image that replaced the mounted one was written"
[ "$(md5sum <"$T/a.moved")" = "$a_sum" ] || fail "the mounted image was written"
[ "$(cat "$MNT/staged")" = staged ] || fail "the staged file is gone"
ok "a replaced image is not written, neither the new file nor the mounted one"

mv "$T/a.moved" "$IMG"   # the mounted image back
: >"$LOG"
sync "$MNT" || fail "the sync with the image back under its name failed"
expect_quiet_log
[ "$(sessions "$IMG")" -eq 2 ] || fail "the session did not go into the mounted image"
unmount_disc
extract_newest "$IMG" "$T/out"
[ "$(cat "$T/out/staged")" = staged ] || fail "the staged file is not in the new session"
[ "$(cat "$T/out/a")" = a ] || fail "the old file is not in the new session"
ok "with the mounted image back under its name the commit writes into it"
