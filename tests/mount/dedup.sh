#!/usr/bin/env bash
# Content already on the disc is not written again (issue 11 item 2): a staged file
# whose size and MD5 equal those of a file of the disc refers to that file's
# extents.  Each case prints the size of its session; the cases:
#  (a) rsync of a source whose 100 MiB directory was renamed (delete + create);
#  (b) copies of on-disc files in the mount, one of them of a hard-linked file
#      whose other name is deleted: each copy is an inode of its own on a fresh
#      mount (st_nlink 1), and a change of a copy leaves the original as it was;
#  (c) a file put back to last week's content: (c1) changed and put back before
#      the next commit, (c2) put back after a session recorded the change (the
#      content is in an older session only).
# After each: a fresh mount of the image with an empty cache equals the source
# (rsync -c), and xorriso finds every file's MD5 matching.
# DEDUP_REPORT_ONLY=1: print the sizes, do not judge them (to measure a build
# without dedup).
. "$(dirname "$0")/lib.sh"
command -v rsync >/dev/null || skip "rsync is not installed"

IMG=$T/disc.iso
SRC=$T/src
REPORT_ONLY=${DEDUP_REPORT_ONLY:-0}

# session_blocks N: the size of session N in blocks, as xorriso -toc lists it
session_blocks() {
    xorriso -indev "$IMG" -toc 2>/dev/null |
        awk -v n="$1" '/^ISO session/ && $4 == n {sub(/s$/, "", $8); print $8}'
}

# small_session WHAT N MAX: session N took at most MAX blocks
small_session() {
    local b
    b=$(session_blocks "$2")
    echo "session blocks: $1: $b"
    [ "$REPORT_ONLY" = 1 ] || [ "$b" -le "$3" ] || fail "$1: session $2 took $b blocks (at most $3 expected)"
}

# fresh_check WHAT: a fresh mount of a copy of the image with an empty cache shows
# exactly the source, and xorriso finds every MD5 matching
fresh_check() {
    local copy=$T/copy.iso mnt2=$T/mnt2 out rc=0 fpid
    cp "$IMG" "$copy"
    mkdir -p "$mnt2"
    # in the foreground (the fork to the background of the base this was written
    # on could inherit the view's lock held by the journal's sync thread)
    "$DISCFS" "$copy" "$mnt2" -f -o cache="$T/cache-fresh" 2>"$T/fresh.log" &
    fpid=$!
    for _ in $(seq 200); do
        mountpoint -q "$mnt2" && break
        kill -0 "$fpid" 2>/dev/null || { cat "$T/fresh.log" >&2; fail "$1: a fresh mount of the image was refused"; }
        sleep 0.05
    done
    mountpoint -q "$mnt2" || fail "$1: a fresh mount of the image did not come up within 10 s"
    out=$(rsync -aHAXc --dry-run -i --delete "$SRC/" "$mnt2/" 2>&1) || rc=$?
    # (rsync compares whole seconds): the files' mtimes to the nanosecond
    out="$out$(python3 - "$SRC" "$mnt2" <<'PY'
import os, sys
src, mnt = sys.argv[1], sys.argv[2]
for d, _, files in os.walk(src):
    for f in files:
        a = os.path.join(d, f)
        b = os.path.join(mnt, os.path.relpath(a, src))
        if not os.path.islink(a) and os.lstat(a).st_mtime_ns != os.lstat(b).st_mtime_ns:
            print("\n%s: mtime %d, on a fresh mount %d" % (os.path.relpath(a, src),
                  os.lstat(a).st_mtime_ns, os.lstat(b).st_mtime_ns))
PY
)"
    if [ -n "${FRESH_INODES:-}" ]; then
        # names that must be inodes of their own
        for p in $FRESH_INODES; do
            [ "$(stat -c %h "$mnt2/$p")" = 1 ] || out="$out
$p: st_nlink $(stat -c %h "$mnt2/$p") on a fresh mount"
        done
        [ "$(for p in $FRESH_INODES; do stat -c %i "$mnt2/$p"; done | sort -u | wc -l)" = \
            "$(echo $FRESH_INODES | wc -w)" ] || out="$out
$FRESH_INODES: not all of them inodes of their own on a fresh mount"
    fi
    fusermount3 -u "$mnt2"
    wait "$fpid" || out="$out
the fresh mount's daemon exited with an error"
    rm -rf "$T/cache-fresh" "$copy"
    [ -z "$out" ] && [ $rc -eq 0 ] || { echo "$out" >&2; fail "$1: a fresh mount differs from the source"; }
    [ ! -s "$T/fresh.log" ] || { cat "$T/fresh.log" >&2; fail "$1: the fresh mount complained"; }
    out=$(xorriso -md5 on -indev "$IMG" -check_md5_r sorry / -- 2>&1) ||
        { echo "$out" >&2; fail "$1: xorriso -check_md5_r fails"; }
    echo "$out" | grep -q 'File contents and their MD5 checksums match' ||
        { echo "$out" >&2; fail "$1: xorriso -check_md5_r does not find the MD5s matching"; }
}

mkdir -p "$SRC/photos/2024" "$SRC/docs"
for i in $(seq 1 10); do head -c $((10 * 1024 * 1024)) /dev/urandom >"$SRC/photos/2024/img$i.raw"; done
head -c 3000000 /dev/urandom >"$SRC/docs/report.pdf"
head -c 200000 /dev/urandom >"$SRC/docs/family"
ln "$SRC/docs/family" "$SRC/docs/family-link"
echo "last week" >"$SRC/docs/notes.txt"
head -c 500000 /dev/urandom >"$SRC/docs/draft"
: >"$SRC/docs/empty"

mount_disc "$IMG"
rsync -aHAX "$SRC/" "$MNT/"
sync "$MNT" || fail "the first commit failed"
lba1=$(lba_of "$IMG" /photos/2024/img3.raw)
fresh_check "the first session"

# (a) the directory is renamed in the source: rsync deletes it and creates the new one
mv "$SRC/photos/2024" "$SRC/photos/2024-italy"
rsync -aHAX --delete "$SRC/" "$MNT/"
sync "$MNT" || fail "(a): the commit failed"
small_session "(a) rsync of a renamed 100 MiB directory" 2 512
if [ "$REPORT_ONLY" != 1 ]; then
    [ "$(lba_of "$IMG" /photos/2024-italy/img3.raw)" = "$lba1" ] ||
        fail "(a): the moved file does not refer to its data on the disc"
fi
fresh_check "(a)"
ok "(a) rsync of a renamed directory refers to the data on the disc"

# (b) copies in the mount: of a plain file (twice), and of a file of a hard-link
# family whose other name goes
cp "$MNT/docs/report.pdf" "$MNT/docs/report-copy.pdf"
cp -p "$MNT/docs/report.pdf" "$MNT/report-again.pdf"
cp "$MNT/docs/family" "$MNT/docs/family-copy"
rm "$MNT/docs/family-link"
cp "$SRC/docs/report.pdf" "$SRC/docs/report-copy.pdf"
cp -p "$SRC/docs/report.pdf" "$SRC/report-again.pdf"
cp "$SRC/docs/family" "$SRC/docs/family-copy"
rm "$SRC/docs/family-link"
touch -r "$MNT/docs/report-copy.pdf" "$SRC/docs/report-copy.pdf"
touch -r "$MNT/docs/family-copy" "$SRC/docs/family-copy"
touch -r "$MNT/docs" "$SRC/docs"
touch -r "$MNT" "$SRC"
sync "$MNT" || fail "(b): the commit failed"
small_session "(b) copies of on-disc files" 3 64
FRESH_INODES="docs/report.pdf docs/report-copy.pdf report-again.pdf docs/family docs/family-copy" \
    fresh_check "(b)"
ok "(b) copies of on-disc files refer to their data, each an inode of its own"

# a copy changed after the commit: the original keeps its content
echo "appended" >>"$MNT/docs/report-copy.pdf"
echo "appended" >>"$SRC/docs/report-copy.pdf"
touch -r "$MNT/docs/report-copy.pdf" "$SRC/docs/report-copy.pdf"
cmp -s "$MNT/docs/report.pdf" "$SRC/docs/report.pdf" || fail "changing a copy changed its original"
sync "$MNT" || fail "the commit of a changed copy failed"
fresh_check "a changed copy"
ok "a change of a copy leaves its original as it was"

# (c1) a file changed in the source and backed up, then put back to last week's
# content before the next commit: the disc has it already
cp -p "$SRC/docs/draft" "$T/draft.last-week"
head -c 500000 /dev/urandom >"$SRC/docs/draft"
rsync -aHAX --delete "$SRC/" "$MNT/"
cp -p "$T/draft.last-week" "$SRC/docs/draft"
rsync -aHAX --delete "$SRC/" "$MNT/"
sync "$MNT" || fail "(c1): the commit failed"
small_session "(c1) a file put back to its content on the disc" 5 64
fresh_check "(c1)"
ok "(c1) a file put back to the content on the disc refers to it"

# (c2) the change is committed; then the file is put back to last week's content,
# which only an older session holds
lba_week=$(lba_of "$IMG" /docs/draft)
head -c 500000 /dev/urandom >"$SRC/docs/draft"
rsync -aHAX --delete "$SRC/" "$MNT/"
sync "$MNT" || fail "(c2): the commit of the change failed"
cp -p "$T/draft.last-week" "$SRC/docs/draft"
rsync -aHAX --delete "$SRC/" "$MNT/"
sync "$MNT" || fail "(c2): the commit of last week's content failed"
small_session "(c2) a file put back to the content of an older session" 7 64
if [ "$REPORT_ONLY" != 1 ]; then
    [ "$(lba_of "$IMG" /docs/draft)" = "$lba_week" ] ||
        fail "(c2): the file does not refer to last week's data"
fi
unmount_disc
fresh_check "(c2)"
ok "(c2) a file put back to the content of an older session refers to it"

# the mount that made them goes on with them: a remount, a change, a commit
mount_disc "$IMG"
echo "more" >>"$MNT/docs/family-copy"
echo "more" >>"$SRC/docs/family-copy"
touch -r "$MNT/docs/family-copy" "$SRC/docs/family-copy"
unmount_disc
fresh_check "after a remount"
ok "files that refer to on-disc data are files like the others in later sessions"
