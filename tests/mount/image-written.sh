#!/usr/bin/env bash
# Another program writes into a mounted image file (dd of another image over it):
# reads of files on the disc fail with EIO, said once, instead of returning the
# other image's bytes; staged files read on; when the image is as it was again,
# reads go on (issue 13, item 3).
. "$(dirname "$0")/lib.sh"
IMG=$T/disc.iso

mkdir -p "$T/a" "$T/b"
for f in f g h; do head -c 300000 /dev/urandom >"$T/a/$f"; head -c 300000 /dev/urandom >"$T/b/$f"; done
xorriso -outdev "$IMG" -md5 on -map "$T/a" / -commit >/dev/null 2>&1 || fail "xorriso could not make the image"
xorriso -outdev "$T/other.iso" -volid OTHER -md5 on -map "$T/b" / -commit >/dev/null 2>&1 || fail "xorriso could not make the other image"
cmp -s "$IMG" "$T/other.iso" && fail "the two images are alike"
cp "$IMG" "$T/saved.iso"

mount_disc "$IMG"
cmp "$T/a/f" "$MNT/f" || fail "the file does not read back"
echo staged >"$MNT/staged"
dd if="$T/other.iso" of="$IMG" conv=notrunc status=none
sleep 1.2 # an image is looked at again a second after the last look
if cat "$MNT/g" >"$T/g" 2>"$T/err"; then
    cmp -s "$T/g" "$T/b/g" && fail "the other image's bytes were read as the mounted file: $(cat "$LOG")"
    fail "a read of an image another program wrote into succeeded: $(cat "$LOG")"
fi
grep -q "Input/output error" "$T/err" || fail "the read failed, but not with EIO: $(cat "$T/err")"
if cat "$MNT/h" >/dev/null 2>&1; then fail "a second read succeeded"; fi
[ "$(cat "$MNT/staged")" = staged ] || fail "a staged file does not read while the image is changed"
[ "$(grep -c "the image '$IMG' was changed by another program since it was mounted: reads" "$LOG")" -eq 1 ] ||
    fail "the change is not said once: $(cat "$LOG")"
ok "reads of an image another program wrote into fail with EIO, said once; staged files read on"

dd if="$T/saved.iso" of="$IMG" conv=notrunc status=none
sleep 2.2 # while it is changed, it is looked at again every two seconds
cmp "$T/a/g" "$MNT/g" && cmp "$T/a/h" "$MNT/h" || fail "the files do not read back once the image is as it was"
grep -q "the image '$IMG' is as it was mounted again: reads go on" "$LOG" || fail "the return is not said: $(cat "$LOG")"
: >"$LOG"
unmount_disc
[ "$(sessions "$IMG")" -eq 2 ] || fail "the staged file was not committed after the image came back"
ok "when the image is as it was again, reads go on and the commit works"

# nothing staged, and another program appends to the image: the mount reads EIO,
# and discfs umount ends it (there is nothing to keep)
mount_disc "$IMG"
xorriso -dev "$IMG" -map "$T/b/f" /appended -commit >/dev/null 2>&1 || fail "xorriso could not append"
sleep 1.2
if cat "$MNT/h" >/dev/null 2>&1; then fail "a read of the appended image succeeded"; fi
"$DISCFS" umount "$MNT" >"$T/out" 2>&1 || fail "discfs umount of a clean mount of a changed image failed: $(cat "$T/out")"
wait "$PID" || fail "the daemon exited with an error"
PID=
ok "a mount with nothing staged ends with discfs umount also when its image was changed"
