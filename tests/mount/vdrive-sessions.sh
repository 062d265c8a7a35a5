#!/usr/bin/env bash
# vdrive-sessions.sh MEDIA: discfs on a blank virtual MEDIA (cdr, dvd-r, dvd+r,
# bd-r, dvd+rw, bd-re) through mmc:NODE.  Files copied in and `sync MOUNTPOINT`
# write session 1; after a remount the drive's next writable address is where
# session 2 starts (CD-R TAO: 11702); through a remount the files read back from
# the drive equal the source.  xorriso, under the same shim, is the independent
# reader of the table of contents.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"
MEDIA=${1:?usage: vdrive-sessions.sh MEDIA}
SRC=$T/src

vd --media "$MEDIA" || fail "cannot set up a virtual $MEDIA"
mkdir -p "$SRC/dir/sub"
head -c 300000 /dev/urandom >"$SRC/a.bin"
head -c 70000 /dev/urandom >"$SRC/dir/b.bin"
echo hello >"$SRC/dir/sub/c.txt"

# session 1 on the blank disc
mount_disc "mmc:$NODE"
[ -z "$(ls -A "$MNT")" ] || fail "a blank $MEDIA does not mount empty"
cp -r "$SRC/." "$MNT/" || fail "cp into the mount failed"
sync "$MNT" || fail "sync $MNT (the commit) failed"
diff -r "$SRC" "$MNT" || fail "the mount differs from the source after the commit"
unmount_disc
starts=$(toc_starts)
first=0
case $MEDIA in dvd+rw | bd-re) first=32 ;; esac # libisoburn's emulation: superblock at 0
[ "$starts" = $first ] || fail "after one commit the ISO sessions start at '$starts', expected $first"
ok "$MEDIA: a blank disc takes session 1 through sync MOUNTPOINT (xorriso -toc: $starts)"
nwa=$(status_of nwa)
case $MEDIA in cdr) [ "$nwa" = 11702 ] || fail "CD-R nwa after a small TAO session: $nwa, expected 11702" ;; esac

# session 2 after a remount, at the drive's next writable address
mount_disc "mmc:$NODE"
diff -r "$SRC" "$MNT" || fail "the remounted disc differs from the source"
ok "$MEDIA: the files read back through the drive equal the source"
head -c 50000 /dev/urandom >"$SRC/d.bin"
cp "$SRC/d.bin" "$MNT/" || fail "cp of d.bin failed"
rm "$SRC/dir/sub/c.txt" "$MNT/dir/sub/c.txt" || fail "rm of an on-disc file failed"
sync "$MNT" || fail "second sync failed"
unmount_disc
starts=$(toc_starts)
case $MEDIA in
dvd+rw | bd-re) # emulated sessions (libisoburn): two of them, the second one later
    set -- $starts
    [ $# -eq 2 ] && [ "$2" -gt "$1" ] || fail "ISO sessions start at '$starts', expected two" ;;
*)
    [ "$starts" = "0 $nwa" ] || fail "ISO sessions start at '$starts', expected '0 $nwa'" ;;
esac
ok "$MEDIA: session 2 appended after a remount (xorriso -toc: $starts)"

mount_disc "mmc:$NODE"
diff -r "$SRC" "$MNT" || fail "session 2 read back differs from the source"
unmount_disc
ok "$MEDIA: session 2 reads back equal to the source"

vd -- "$DISCFS" verify "mmc:$NODE" >"$T/out" 2>&1 || fail "discfs verify of the disc failed: $(cat "$T/out")"
grep -q "^session 2: [0-9]* blocks match the session's MD5$" "$T/out" &&
    tail -1 "$T/out" | grep -q "^discfs: 'mmc:$NODE': 2 sessions and [0-9]* files (.*) match their MD5s$" ||
    fail "discfs verify: $(cat "$T/out")"
ok "$MEDIA: discfs verify finds both sessions and their files good"
