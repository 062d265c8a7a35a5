#!/usr/bin/env bash
# A session under MNT/.sessions is never imported from another disc, and a failure
# that may pass is not held against the session: while another program has
# written another image over the mounted one, ls MNT/.sessions/1 fails with EIO
# (said once) instead of showing the other image's session 1; when the image is as
# it was again, session 1 is shown.
. "$(dirname "$0")/lib.sh"

# two images of two sessions each, of the same shape (the same blocks) but other
# bytes and volume ids (a disc is known by its volume descriptors)
for img in disc other; do
    mkdir -p "$T/$img"
    for n in 1 2; do
        head -c 3000 /dev/urandom >"$T/$img/f$n"
        xorriso -indev "$T/$img.iso" -outdev "$T/$img.iso" -volid "$img" -map "$T/$img" / -commit \
            >/dev/null 2>&1 || fail "xorriso: session $n of $img.iso"
        [ $n = 2 ] || cp "$T/$img/f1" "$T/$img.f1"
    done
done
cmp -s "$T/disc.iso" "$T/other.iso" && fail "the two images are alike"
cp "$T/disc.iso" "$T/saved.iso"

mount_disc "$T/disc.iso"
dd if="$T/other.iso" of="$T/disc.iso" conv=notrunc status=none
sleep 1.2 # an image is looked at again a second after the last look
for _ in 1 2; do
    if out=$(ls "$MNT/.sessions/1" 2>&1); then
        cmp -s "$MNT/.sessions/1/f1" "$T/other.f1" && fail "session 1 of the other image is shown"
        fail "session 1 is shown while another image is written over the mounted one: $out"
    fi
    case "$out" in *"Input/output error"*) ;; *) fail "ls of session 1: '$out'" ;; esac
done
[ "$(grep -c "cannot show session 1 " "$LOG")" = 1 ] || fail "not said once: $(cat "$LOG")"
grep -q "cannot show session 1 .* now (it is tried again at the next look)" "$LOG" ||
    fail "the message does not say that it may pass: $(cat "$LOG")"
ok "while another image is written over the mounted one, .sessions/1 fails with EIO, said once"

dd if="$T/saved.iso" of="$T/disc.iso" conv=notrunc status=none
sleep 2.2 # while it is changed, it is looked at again every two seconds
cmp "$MNT/.sessions/1/f1" "$T/disc.f1" || fail "session 1 is not shown once the image is as it was"
[ ! -e "$MNT/.sessions/1/f2" ] || fail "session 1 shows f2"
cmp "$MNT/.sessions/2/f2" "$T/disc/f2" || fail "session 2 is not shown"
fusermount3 -u "$MNT"
wait "$PID" || fail "discfs exited with $?"
PID=
ok "once the image is as it was, session 1 is shown"
