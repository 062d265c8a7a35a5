#!/usr/bin/env bash
# vdrive-dedup.sh MEDIA: content already on the disc is not written again on a
# virtual write-once MEDIA (mmc:NODE): a file moved by delete + create, a copy of
# an on-disc file (its twin comes from a second import of the session, read
# through the drive) and a file put back to a content that only an older session
# holds refer to the data on the disc; a fresh mount reads them back as inodes of
# their own, and xorriso finds their MD5s matching.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"
MEDIA=${1:?usage: vdrive-dedup.sh MEDIA}

vd --media "$MEDIA" || fail "cannot set up a virtual $MEDIA"
head -c 4000000 /dev/urandom >"$T/a"
head -c 3000000 /dev/urandom >"$T/b"
mount_disc "mmc:$NODE"
head -c 2000000 /dev/urandom >"$T/c"
cp "$T/a" "$T/b" "$T/c" "$MNT/" || fail "cp into the mount failed"
sync "$MNT" || fail "the first commit failed"
head -c 2000000 /dev/urandom >"$MNT/c"
sync "$MNT" || fail "the commit of a change failed"
before=$(status_of nwa)
cp "$MNT/a" "$MNT/a-copy" || fail "cp in the mount failed"
cp "$MNT/b" "$MNT/b-moved" && rm "$MNT/b" || fail "the move by copy and delete failed"
cp "$T/c" "$MNT/c" || fail "putting c back failed"
sync "$MNT" || fail "the commit of a copy, a moved file and a file put back failed"
unmount_disc
used=$(($(status_of nwa) - before))
echo "blocks taken by the session of a copy, a moved file and a file put back: $used"
case $MEDIA in cdr) max=7500 ;; *) max=600 ;; esac # CD-R: the 6900 blocks of the session gap
[ "$used" -le "$max" ] || fail "the session took $used blocks: the data was written again"

mount_disc "mmc:$NODE" -o cache="$T/empty-cache"
cmp "$T/a" "$MNT/a" && cmp "$T/a" "$MNT/a-copy" && cmp "$T/b" "$MNT/b-moved" &&
    cmp "$T/c" "$MNT/c" ||
    fail "the files do not read back from a fresh mount"
[ "$(stat -c %h "$MNT/a")$(stat -c %h "$MNT/a-copy")" = 11 ] &&
    [ "$(stat -c %i "$MNT/a")" != "$(stat -c %i "$MNT/a-copy")" ] ||
    fail "the copy and its original are not inodes of their own on a fresh mount"
unmount_disc
vd -- xorriso -md5 on -dev "mmc:$NODE" -check_md5_r sorry / -- >"$T/md5" 2>&1 || fail "xorriso -check_md5_r fails: $(cat "$T/md5")"
grep -q 'File contents and their MD5 checksums match' "$T/md5" ||
    fail "xorriso -check_md5_r does not find the MD5s matching: $(cat "$T/md5")"
ok "$MEDIA: a copy, a moved file and a file put back refer to their data on the disc"
