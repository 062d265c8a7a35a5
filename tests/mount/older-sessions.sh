#!/usr/bin/env bash
# older-sessions.sh [cdr]: every session is a snapshot.  `discfs sessions DEVICE`
# lists them as xorriso -toc does (number, start, size, date, volume id; an image
# file also while it is mounted, a drive then names its mount), and
# `-o session=N` mounts session N read-only as it was written, leaving the disc's
# staged changes alone.  On an image file, or (cdr) on a virtual CD-R.
. "$(dirname "$0")/lib.sh"
MEDIA=${1:-}
if [ -n "$MEDIA" ]; then
    . "$(dirname "$0")/vdrive.sh"
    vd --media "$MEDIA"
    DEV=mmc:$NODE
    toc() { xo "$T/w" -toc >/dev/null; cat "$T/w"; }
else
    DEV=$T/s.iso
    toc() { xorriso -indev "$DEV" -toc 2>/dev/null; }
fi

mount_disc "$DEV"
echo v1 >"$MNT/f"
echo gone >"$MNT/g"
sync "$MNT" || fail "session 1"
echo v2 >"$MNT/f"
sync "$MNT" || fail "session 2"
rc=0
out=$("${DISCFS_PREFIX[@]}" "$DISCFS" sessions "$DEV" 2>&1) || rc=$?
if [ -z "$MEDIA" ]; then # an image file is only read
    [ $rc = 0 ] && [ "$(grep -c '^[0-9]' <<<"$out")" = 2 ] ||
        fail "discfs sessions of the mounted image: exit $rc, '$out'"
    ok "discfs sessions lists the sessions of a mounted image"
else # libburn cannot open a drive a mount holds: the message says which and what to do
    [ $rc = 1 ] && grep -q "held by the discfs mount at '$MNT'.*$MNT/.sessions" <<<"$out" ||
        fail "discfs sessions of a mounted drive: exit $rc, '$out'"
    ok "discfs sessions of a mounted drive names the mount that holds it"
fi
rm "$MNT/g"
echo v3 >"$MNT/f"
unmount_disc

out=$("${DISCFS_PREFIX[@]}" "$DISCFS" sessions "$DEV") || fail "discfs sessions failed: $out"
echo "$out"
[ "$(grep -c '^[0-9]' <<<"$out")" = 3 ] || fail "discfs sessions lists no 3 sessions"
want=$(toc | awk -F'[ ,:]+' '/^ISO session/ { print $3, $4 }')
got=$(awk '/^[0-9]/ { print $1, $2 }' <<<"$out")
[ "$got" = "$want" ] || fail "sessions and starts '$got' differ from xorriso's '$want'"
grep -q "$(date -u +%Y-%m-%d)" <<<"$out" || fail "no date of today in the list"
ok "discfs sessions lists the sessions as xorriso -toc does"

# a staged change of the newest session, left by a crash
mount_disc "$DEV"
echo staged >"$MNT/staged"
kill_daemon
for n in 1 2 3; do
    mount_disc "$DEV" -o session=$n
    [ "$(cat "$MNT/f")" = v$n ] || fail "session $n shows f = '$(cat "$MNT/f")'"
    if [ $n -lt 3 ]; then [ -e "$MNT/g" ] || fail "session $n lacks g"; else [ ! -e "$MNT/g" ] || fail "session 3 has g"; fi
    [ ! -e "$MNT/staged" ] || fail "session $n shows the staged change"
    err=$(touch "$MNT/new" 2>&1) && fail "session $n is writable"
    case "$err" in *"Read-only file system"*) ;; *) fail "a write to session $n: '$err', not EROFS" ;; esac
    unmount_disc
done
ok "-o session=N shows each session read-only as it was written"
rc=0
"${DISCFS_PREFIX[@]}" "$DISCFS" "$DEV" "$MNT" -o cache="$CACHE" -o session=4 2>"$T/err" || rc=$?
[ $rc = 2 ] && grep -q "takes 1 to 3" "$T/err" || fail "session=4 of 3: exit $rc, '$(cat "$T/err")'"
mount_disc "$DEV"
[ "$(cat "$MNT/staged" 2>/dev/null)" = staged ] || fail "the staged change is gone after the old sessions were mounted"
grep -q "pending changes of an earlier mount" "$LOG" || fail "the stage was not found: $(cat "$LOG")"
: >"$LOG"
unmount_disc
ok "a session beyond the last is refused; the disc's staged change is untouched"
