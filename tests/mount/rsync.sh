#!/usr/bin/env bash
# rsync-based incremental backups into the mount: a run without changes stages and
# commits nothing (rsync's quick check sees equal sizes and whole-second mtimes);
# a run with changes writes one session that equals the source.
. "$(dirname "$0")/lib.sh"
command -v rsync >/dev/null || skip "rsync is not installed"
command -v osirrox >/dev/null || skip "osirrox is not installed"

IMG=$T/disc.iso
SRC=$T/src
mkdir -p "$SRC/a/b"
for i in $(seq 1 30); do head -c $((i * 997)) /dev/urandom >"$SRC/a/f$i"; done
echo small >"$SRC/a/b/small"
ln -s f1 "$SRC/a/link"

mount_disc "$IMG"
rsync -a "$SRC/" "$MNT/"
sync "$MNT"
[ "$(sessions "$IMG")" -eq 1 ] || fail "the first rsync did not give one session"
changes=$(rsync -ai "$SRC/" "$MNT/")
[ -z "$changes" ] || { echo "$changes" >&2; fail "a second rsync found differences"; }
sync "$MNT"
[ "$(sessions "$IMG")" -eq 1 ] || fail "a no-change rsync wrote a session"
ok "a no-change rsync in the same mount writes nothing"
unmount_disc

mount_disc "$IMG"
changes=$(rsync -ai "$SRC/" "$MNT/")
[ -z "$changes" ] || { echo "$changes" >&2; fail "rsync after a remount found differences"; }
ok "after a remount rsync's quick check finds the disc equal to the source"
echo changed >>"$SRC/a/f7"
rm "$SRC/a/f9"
echo new >"$SRC/a/b/new"
rsync -a --delete "$SRC/" "$MNT/"
unmount_disc
[ "$(sessions "$IMG")" -eq 2 ] || fail "the incremental rsync did not give a second session"
extract_newest "$IMG" "$T/out"
diff -r --no-dereference "$SRC" "$T/out" || fail "the newest session differs from the source"
ok "an incremental rsync writes one session equal to the source"
