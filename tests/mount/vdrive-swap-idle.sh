#!/usr/bin/env bash
# vdrive-swap-idle.sh: the disc is swapped under an idle mount (no commit
# between).  Reads of files never read before fail with EIO instead of returning
# the other disc's bytes; the mount says why, once; the stage is untouched.  With
# the mounted disc back, reads go on and the staged change commits.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"

vd
ctl create a cdr --disc-id 0x11111111 >/dev/null
ctl create b cdr --disc-id 0x22222222 --atip 97:15:17 >/dev/null
mkdir -p "$T/sa" "$T/sb"
for i in 1 2 3 4 5 6; do
    head -c 50000 /dev/urandom >"$T/sa/f$i"
    head -c 50000 /dev/urandom >"$T/sb/f$i" # same names and sizes, other bytes
done
ctl load b
xo "$T/w" -map "$T/sb" / -commit || fail "xorriso could not write disc b: $(cat "$T/w")"
ctl load a
xo "$T/w" -map "$T/sa" / -commit || fail "xorriso could not write disc a: $(cat "$T/w")"

mount_disc "mmc:$NODE"
echo staged >"$MNT/staged"
ctl swap b
sleep 2.2 # idle: the next read asks the drive again
bad=0
for i in 1 2 3 4 5 6; do
    if out=$(cat "$MNT/f$i" 2>/dev/null); then
        bad=$((bad + 1))
        cmp -s <(printf %s "$out") "$T/sb/f$i" && fail "f$i read disc b's bytes"
    fi
done
[ $bad -eq 0 ] || fail "$bad of 6 files read with another disc in the drive"
[ "$(grep -c "not the mounted one" "$LOG")" = 1 ] || fail "the mount did not say why once: $(cat "$LOG")"
grep -q "disc id 11111111" "$LOG" && grep -q "disc id 22222222" "$LOG" ||
    fail "the message does not name both discs"
[ "$(cat "$MNT/staged")" = staged ] || fail "the staged file is gone"
ok "another disc under an idle mount: reads fail with EIO, said once, the stage is kept"

ctl swap a
sleep 2.2
for i in 1 2 3 4 5 6; do
    cmp "$MNT/f$i" "$T/sa/f$i" || fail "f$i reads wrong with the mounted disc back"
done
grep -q "the mounted disc is back" "$LOG" || fail "the mount did not say the disc is back"
sync "$MNT" || fail "the staged change does not commit with the mounted disc back"
unmount_disc_noisy
[ "$(toc_starts | wc -w)" = 2 ] || fail "disc a does not have 2 sessions"
ok "with the mounted disc back, reads go on and the change commits"
