#!/usr/bin/env bash
# Hard-link families of every file type, committed several times in ONE mount, then
# read by a fresh mount of the image with an empty cache (issue 8, defects 1-3):
#  - a second commit after hard links must neither rewrite the family's data (which
#    libisofs would read from the disc being written: crashes, truncated sessions)
#    nor break the disc;
#  - hard-linked symlinks, fifos and device nodes come back as one inode;
#  - a remount replays changes made after a commit onto a tree with such families,
#    directory mtimes included.
. "$(dirname "$0")/lib.sh"
command -v rsync >/dev/null || skip "rsync is not installed"

IMG=$T/disc.iso
SRC=$T/src
mkdir -p "$SRC/a" "$SRC/z/deep"
head -c 3000000 /dev/urandom >"$SRC/z/file"   # created before its link in a/ sorts first
ln "$SRC/z/file" "$SRC/a/link"
ln "$SRC/z/file" "$SRC/z/deep/third"
ln -s target-of-link "$SRC/z/sl"
ln "$SRC/z/sl" "$SRC/a/sl-b"
mkfifo "$SRC/z/ff"
ln "$SRC/z/ff" "$SRC/a/ff-b"
if [ "$(id -u)" -eq 0 ]; then
    mknod "$SRC/z/dev" c 1 3
    ln "$SRC/z/dev" "$SRC/a/dev-b"
fi
for i in $(seq 1 40); do echo "$i" >"$SRC/z/deep/f$i"; done

# fresh_check WHAT [RSYNC OPTIONS]: a fresh mount of a copy of the image with an empty cache shows
# exactly the source, hard links included
fresh_check() {
    local copy=$T/copy.iso mnt2=$T/mnt2 out rc=0
    cp "$IMG" "$copy"
    mkdir -p "$mnt2"
    "$DISCFS" "$copy" "$mnt2" -o cache="$T/cache-fresh" 2>"$T/fresh.log" || {
        cat "$T/fresh.log" >&2
        fail "$1: a fresh mount of the image was refused"
    }
    out=$(rsync -aHAXc "${@:2}" --dry-run -i --delete "$SRC/" "$mnt2/" 2>&1) || rc=$?
    fusermount3 -u "$mnt2"
    rm -rf "$T/cache-fresh" "$copy"
    [ -z "$out" ] && [ $rc -eq 0 ] || { echo "$out" >&2; fail "$1: a fresh mount differs from the source"; }
    [ ! -s "$T/fresh.log" ] || { cat "$T/fresh.log" >&2; fail "$1: the fresh mount complained"; }
    xorriso -md5 on -indev "$IMG" -check_md5_r sorry / -- 2>&1 | grep -q 'match' ||
        fail "$1: xorriso -check_md5_r does not find the MD5s matching"
}

mount_disc "$IMG"
rsync -aHAX "$SRC/" "$MNT/"
sync "$MNT" || fail "the first commit failed"
lba1=$(lba_of "$IMG" /z/file)
fresh_check "after the first commit"
ok "one commit of hard links of files, symlinks, fifos (and devices) reads back from a fresh mount"

# changes are made in the source and carried over by rsync, as a backup does
echo two >"$SRC/two"
rsync -aHAX --delete "$SRC/" "$MNT/"
sync "$MNT" || fail "the second commit in the same mount failed"
[ "$(sessions "$IMG")" -eq 2 ] || fail "the second commit did not give a second session"
[ "$(lba_of "$IMG" /a/link)" = "$lba1" ] || fail "the second session wrote the hard-linked file's data again"
fresh_check "after the second commit"
echo three >"$SRC/three"
rsync -aHAX --delete "$SRC/" "$MNT/"
sync "$MNT" || fail "the third commit in the same mount failed"
fresh_check "after the third commit"
ok "three commits in one mount keep every family and never rewrite its data"

# a new name of an on-disc file and of an on-disc symlink (rsync -H makes it with link())
ln "$SRC/z/file" "$SRC/z/fourth"
ln "$SRC/z/sl" "$SRC/z/sl-c"
rsync -aHAX --delete "$SRC/" "$MNT/"
[ "$(stat -c %i "$MNT/z/fourth")" = "$(stat -c %i "$MNT/a/link")" ] || fail "a new link is not the same inode"
sync "$MNT" || fail "the commit of new links to on-disc files failed"
fresh_check "after new links to on-disc files"
ok "new names of on-disc files and symlinks join their families"

# a change after a commit survives a remount (the journal's map of inode numbers
# must fit the disc's families)
echo four >"$SRC/four"
ln "$SRC/z/ff" "$SRC/z/ff-c"
rsync -aHAX --delete "$SRC/" "$MNT/"
kill_daemon
mount_disc "$IMG"
out=$(rsync -aHAXc --dry-run -i --delete "$SRC/" "$MNT/")
[ -z "$out" ] || { echo "$out" >&2; fail "after kill -9 and a remount the mount differs from the source"; }
grep -q "pending changes of an earlier mount" "$LOG" || fail "the remount did not replay the stage"
: >"$LOG"
unmount_disc
fresh_check "after a replayed stage was committed"
ok "changes after a commit replay onto a tree of hard-linked symlinks and fifos"

# an unchanged backup costs nothing
mount_disc "$IMG"
n=$(sessions "$IMG")
out=$(rsync -aHAX -i --delete "$SRC/" "$MNT/")
[ -z "$out" ] || { echo "$out" >&2; fail "rsync -aHAX of an unchanged tree changed something"; }
sync "$MNT"
[ "$(sessions "$IMG")" -eq "$n" ] || fail "an unchanged backup wrote a session"
unmount_disc
ok "rsync -aHAX of an unchanged tree writes nothing"

# libisofs 1.5.4 gives a new hard-link family that follows a single file (in its sort
# order, by content file) the inode number the root directory was loaded with: two
# such families share it, and a reader merges them into one file.  After a commit
# and a remount, two families with a single file before each are committed; a
# fresh mount must show two families of two names, each with its own content.
IMG2=$T/families.iso
mount_disc "$IMG2"
mkfifo "$MNT/fifo"
ln -s target "$MNT/sl"
unmount_disc
mount_disc "$IMG2"
for f in a e c g h; do echo "content of $f" >"$MNT/$f"; done
ln "$MNT/a" "$MNT/b"
ln "$MNT/c" "$MNT/d"
ln "$MNT/h" "$MNT/i"
unmount_disc
grep -q "hard link" "$LOG" && fail "the commit did not write the families as the view has them: $(cat "$LOG")"
# a reader that links by Rock Ridge inode numbers (osirrox; so does the Linux kernel)
osirrox -indev "$IMG2" -hardlinks on -extract / "$T/families" >"$T/osirrox" 2>&1 ||
    fail "osirrox cannot extract: $(tail -3 "$T/osirrox")"
for f in a b c d e g h i; do
    want="content of $f"
    case $f in b) want="content of a" ;; d) want="content of c" ;; i) want="content of h" ;; esac
    [ "$(cat "$T/families/$f")" = "$want" ] || fail "osirrox extracts $f as '$(cat "$T/families/$f")'"
done
[ "$(stat -c %i "$T/families/a")" != "$(stat -c %i "$T/families/h")" ] ||
    fail "osirrox links two families into one"
mount_disc "$IMG2" -o cache="$T/fresh-families"
for p in a:b c:d h:i; do
    x=${p%:*} y=${p#*:}
    [ "$(stat -c %i "$MNT/$x")" = "$(stat -c %i "$MNT/$y")" ] || fail "$x and $y are not one inode"
    [ "$(stat -c %h "$MNT/$x")" = 2 ] || fail "$x has $(stat -c %h "$MNT/$x") links, not 2"
    [ "$(cat "$MNT/$y")" = "content of $x" ] || fail "$y reads '$(cat "$MNT/$y")'"
done
[ "$(stat -c %i "$MNT/c")" != "$(stat -c %i "$MNT/h")" ] || fail "two families were merged"
unmount_disc
ok "hard-link families after single files keep inode numbers of their own"
