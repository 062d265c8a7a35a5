#!/usr/bin/env bash
# The stage journal across commits and crashes: changes made after a commit replay
# onto the right files (the journal maps the view's inode numbers to a fresh
# mount's), content files are never confused, and the counts df relies on are
# rebuilt.  Each step kills the daemon with SIGKILL and mounts again.
. "$(dirname "$0")/lib.sh"
command -v getfattr >/dev/null || skip "getfattr is not installed (attr)"
IMG=$T/disc.iso

mode_of() { stat -c %a "$MNT/$1"; }

# --- changes after a commit name the right inodes after a crash
mount_disc "$IMG"
echo f >"$MNT/f"
chmod 644 "$MNT/f"
sync "$MNT"
echo b >"$MNT/b"; echo c >"$MNT/c"; mkdir "$MNT/d"
chmod 644 "$MNT/b" "$MNT/c"
sync "$MNT" # a fresh mount numbers b, c, d, f in that order; this view has f first
chmod 600 "$MNT/f"
setfattr -n user.k -v v "$MNT/b"
mv "$MNT/c" "$MNT/d/c2"
ln "$MNT/f" "$MNT/d/f-link"
echo grown >>"$MNT/b"
mkdir "$MNT/d/new"; echo n >"$MNT/d/new/n"
kill_daemon
mount_disc "$IMG"
[ "$(mode_of f)" = 600 ] || fail "chmod of f after a commit was replayed onto another file (f is $(mode_of f))"
[ "$(mode_of b)" = 644 ] || fail "b got the mode meant for f"
[ "$(getfattr --only-values -n user.k "$MNT/b" 2>/dev/null)" = v ] || fail "the xattr of b is lost"
[ "$(cat "$MNT/d/c2")" = c ] && [ ! -e "$MNT/c" ] || fail "the rename after a commit was not replayed"
[ "$(stat -c %h "$MNT/f")" = 2 ] && [ "$(stat -c %i "$MNT/f")" = "$(stat -c %i "$MNT/d/f-link")" ] ||
    fail "the hard link after a commit was not replayed"
[ "$(cat "$MNT/b")" = "$(printf 'b\ngrown')" ] || fail "the content of b after a commit is wrong: $(cat "$MNT/b")"
[ "$(cat "$MNT/d/new/n")" = n ] || fail "a tree made after a commit is lost"
ok "changes made after a commit replay onto the right files"

# a second crash on top of the first replay, then a commit
echo more >"$MNT/d/new/m"
chmod 640 "$MNT/b"
kill_daemon
mount_disc "$IMG"
[ "$(mode_of b)" = 640 ] && [ "$(cat "$MNT/d/new/m")" = more ] && [ "$(mode_of f)" = 600 ] ||
    fail "the second replay lost changes"
sync "$MNT"
kill_daemon # right after a commit: the new stage holds only its map
mount_disc "$IMG"
grep -q "pending changes" "$LOG" && fail "a stage with nothing pending reported changes"
[ "$(mode_of b)" = 640 ] && [ "$(mode_of f)" = 600 ] && [ "$(cat "$MNT/d/c2")" = c ] ||
    fail "the session written after two replays is wrong"
n=$(sessions "$IMG")
sync "$MNT"
[ "$(sessions "$IMG")" = "$n" ] || fail "a crash right after a commit left something to commit"
ok "a second crash, a commit, and a crash right after it: all exact, nothing extra to commit"

# --- a staged file held open and unlinked across a commit does not take a new file's content
exec 3<>"$MNT/held"
echo held >&3
rm "$MNT/held"
echo x >>"$MNT/b"
sync "$MNT"
echo new >"$MNT/newfile"
exec 3>&-
sleep 0.2 # the release reaches the daemon after close returns
[ "$(cat "$MNT/newfile")" = new ] || fail "closing an unlinked file removed a new file's content"
sync "$MNT" || fail "a commit failed after an unlinked file was closed"
ok "an unlinked open file across a commit leaves new files alone"

# --- replay recounts staged space: copy-up then unlink, O_TRUNC of a disc file
echo 12345 >>"$MNT/f"
rm "$MNT/d/f-link" "$MNT/f"
: >"$MNT/b"
kill_daemon
mount_disc "$IMG"
avail=$(stat -f -c %a "$MNT")
[ "$avail" -gt 1000 ] || fail "df after a replay shows $avail free blocks"
echo fine >"$MNT/after" || fail "a write after the replay failed"
[ ! -e "$MNT/f" ] && [ ! -s "$MNT/b" ] || fail "the unlink or the O_TRUNC was not replayed"
ok "after a replay df is sane ($avail blocks) and writes work"

# --- content lost before it was synced: the replacement is recorded
echo keep >"$MNT/lost"
kill_daemon
# remove the newest content file, as a machine crash before its sync could
data=$(dirname "$(find "$CACHE" -name journal | head -1)")/data
rm "$data/$(ls -t "$data" | head -1)"
mount_disc "$IMG"
grep -q "was lost in a crash" "$LOG" || fail "the lost content was not reported"
echo rewritten >"$MNT/lost"
kill_daemon
mount_disc "$IMG"
[ "$(cat "$MNT/lost")" = rewritten ] || fail "content written after a recovery was lost in a second crash"
ok "content rewritten after a loss survives the next crash"
fusermount3 -u "$MNT"
wait "$PID" || fail "discfs failed at unmount"
PID=
