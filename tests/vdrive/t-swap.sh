#!/bin/sh
# A program holds the drive (libburn grabbed, like a discfs mount); the
# medium is swapped, ejected and loaded under it. libburn sees UNIT
# ATTENTION 6/28/00 and, after burn_drive_re_assess(), the other disc:
# disc id and ATIP (media id) tell two CD-Rs apart.
. "$(dirname "$0")/lib.sh"
: "${VD_PROBE:?set by meson}"
need xorriso

ctl create a cdr --disc-id 0x11111111
ctl create b cdr --disc-id 0x22222222 --atip 97:15:17 --load
echo b >"$T/f"
xo "$T/w" -write_type tao -map "$T/f" /f -commit || fail "commit: $(cat "$T/w")"
ctl load a

mkfifo "$T/in"
vd -- "$VD_PROBE" "$NODE" <"$T/in" >"$T/out" 2>&1 &
pid=$!
exec 3>"$T/in"
wait_lines "$T/out" 1
ctl load b
echo reassess >&3
wait_lines "$T/out" 2
ctl eject
echo reassess >&3
wait_lines "$T/out" 3
ctl load a
echo reassess >&3
wait_lines "$T/out" 4
echo quit >&3
exec 3>&-
wait $pid || fail "vd-probe failed: $(cat "$T/out")"

l1=$(sed -n 1p "$T/out")
l2=$(sed -n 2p "$T/out")
l3=$(sed -n 3p "$T/out")
l4=$(sed -n 4p "$T/out")
case $l1 in
"status 1 profile 0x0009 sessions 0 "*"disc_id 0x11111111 media_id 97m26s66f/79m59s74f") ;;
*) fail "disc a at grab: $l1" ;;
esac
case $l2 in
"status 3 profile 0x0009 sessions 1 msc1 0 nwa 11702 disc_id 0x22222222 media_id 97m15s17f/79m59s74f") ;;
*) fail "disc b after swap: $l2" ;;
esac
case $l3 in
"status 2 profile 0x0000 "*) ;; # BURN_DISC_EMPTY, no profile
*) fail "empty drive after eject: $l3" ;;
esac
[ "$l4" = "$l1" ] || fail "disc a again: $l4"
grep -q 'CHECK 6/28/00' "$D/cdb.log" || fail "no UNIT ATTENTION in the log"
grep -q 'CHECK 2/3A/00' "$D/cdb.log" || fail "no 'medium not present' in the log"
echo "ok: swap a -> b -> none -> a seen after re-assess"
