#!/usr/bin/env bash
# A stage belongs to one disc: two image files whose sessions are alike to the
# byte (a copy, or two images made in the same second) each get their own stage,
# and a change staged for one never shows up in the other.  -o cache=DIR keeps
# the mode of DIR, whose stages are 0700 each.
. "$(dirname "$0")/lib.sh"

A=$T/a.iso
B=$T/b.iso
mkdir -p "$T/src"
echo same >"$T/src/same"
xorriso -outdev "$A" -map "$T/src" / -commit >/dev/null 2>&1 || fail "xorriso could not make $A"
cp "$A" "$B"

mount_disc "$A"
echo "for a only" >"$MNT/staged"
kill_daemon # the change stays staged for a.iso
mount_disc "$B"
[ ! -e "$MNT/staged" ] || fail "a change staged for a.iso shows up in b.iso"
[ "$(cat "$MNT/same")" = same ] || fail "b.iso does not show its own file"
unmount_disc
mount_disc "$A"
[ "$(cat "$MNT/staged" 2>/dev/null)" = "for a only" ] || fail "the change staged for a.iso is gone"
grep -q "pending changes of an earlier mount" "$LOG" || fail "the mount of a.iso did not say it found its stage"
: >"$LOG"
unmount_disc
ok "two alike image files have a stage each"

# the cache directory given keeps its mode; each stage in it is the user's alone
SHARED=$T/shared
mkdir -m 1777 "$SHARED"
CACHE=$SHARED
mount_disc "$B"
echo x >"$MNT/x"
[ "$(stat -c %a "$SHARED")" = 1777 ] || fail "-o cache=DIR changed DIR's mode to $(stat -c %a "$SHARED")"
for st in "$SHARED"/*/; do
    [ "$(stat -c %a "$st")" = 700 ] || fail "the stage $st has mode $(stat -c %a "$st"), not 700"
done
unmount_disc
[ "$(stat -c %a "$SHARED")" = 1777 ] || fail "the commit changed the cache directory's mode"
ok "-o cache=DIR keeps DIR's mode; its stages are 0700"
