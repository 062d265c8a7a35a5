#!/usr/bin/env bash
# Three sessions written through discfs onto an image file, each checked by
# independent readers (xorriso, osirrox, bsdtar, 7z, isoinfo) against a reference
# tree that receives the very same operations.
. "$(dirname "$0")/lib.sh"
for tool in osirrox bsdtar 7z isoinfo; do
    command -v $tool >/dev/null || skip "$tool is not installed (scripts/install-deps --tests)"
done

IMG=$T/disc.iso
SRC=$T/src
REF=$T/ref
OUT=$T/out

# a tree with the things a backup meets
mkdir -p "$SRC/docs/deep/er/still" "$SRC/empty dir" "$SRC/private"
echo "hello" >"$SRC/a.txt"
printf 'x%.0s' $(seq 1 5000) >"$SRC/docs/x.txt"
head -c 3000000 /dev/urandom >"$SRC/docs/big.bin"
: >"$SRC/empty"
echo "deep" >"$SRC/docs/deep/er/still/file"
echo "blanks" >"$SRC/name with spaces.txt"
echo "utf8" >"$SRC/grüße-ünïcödé.txt"
ln -s a.txt "$SRC/rel-link"
ln -s /etc/hostname "$SRC/abs-link"
ln -s does/not/exist "$SRC/dangling"
echo secret >"$SRC/private/key"
chmod 600 "$SRC/private/key"
chmod 700 "$SRC/private"
chmod 755 "$SRC/docs/x.txt"
chmod 4755 "$SRC/a.txt"
touch -d '2001-02-03 04:05:06' "$SRC/docs/x.txt"
touch -h -d "1999-12-31 23:59:59" "$SRC/rel-link" "$SRC/dangling"
if [ "$(id -u)" -eq 0 ]; then chown 1234:5678 "$SRC/docs/x.txt"; fi

# compare DIR with the reference: listing (modes, owners, sizes, 1 s mtimes,
# symlink targets) and content
# (osirrox does not restore the mtime of symlinks: with a third argument they are
# left out; the mount itself and bsdtar show them from the disc)
same_as_ref() {
    local what=$2 filter=cat
    [ -n "${3:-}" ] && filter="sed -E s/^([^|]*\|l[^|]*\|[^|]*\|[^|]*\|[^|]*\|)[0-9]+/\1/"
    diff <(tree_listing "$REF" | $filter) <(tree_listing "$1" | $filter) >"$T/listing.diff" ||
        { cat "$T/listing.diff" >&2; fail "$what: listing differs from the reference"; }
    diff -r --no-dereference "$REF" "$1" >"$T/content.diff" ||
        { cat "$T/content.diff" >&2; fail "$what: content differs from the reference"; }
}

paths_of_ref() { (cd "$REF" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort); }

check_image() {
    local n=$1
    [ "$(sessions "$IMG")" -eq "$n" ] || fail "xorriso -toc lists $(sessions "$IMG") sessions, expected $n"
    ok "xorriso -toc lists $n sessions"
    extract_newest "$IMG" "$OUT"
    same_as_ref "$OUT" "osirrox -extract of session $n" nolinktime
    ok "osirrox -extract of session $n equals the reference"
    # bsdtar (libarchive's own ISO 9660 + Rock Ridge reader)
    diff <(paths_of_ref) <(bsdtar -tf "$IMG" | sed -e 's|^\./||' -e 's|/$||' | grep -v '^\.\?$' | LC_ALL=C sort) ||
        fail "bsdtar -tf does not list the newest tree of session $n"
    local tv
    tv=$(bsdtar -tvf "$IMG")
    grep -q -- "^-rwsr-xr-x .* \./a.txt$" <<<"$tv" || { echo "$tv" >&2; fail "bsdtar -tv does not show a.txt as setuid"; }
    grep -q -- "^lrwxrwxrwx .* $(date -d "@$(stat -c %Y "$REF/dangling")" '+%b %e  %Y') \./dangling -> " <<<"$tv" ||
        fail "bsdtar -tv does not show the mtime of the symlink dangling"
    ok "bsdtar lists the newest tree"
    # 7z reads the Joliet tree: every ASCII file and directory name (Joliet has no symlinks)
    diff <(cd "$REF" && find . -mindepth 1 \( -type f -o -type d \) -printf '%P\n' | grep -v '[^ -~]' | LC_ALL=C sort) \
         <(7z l -slt "$IMG" | sed -n 's/^Path = //p' | grep -v -x -F "$IMG" | grep -v '[^ -~]' | LC_ALL=C sort) ||
        fail "7z l does not list the newest tree of session $n"
    ok "7z lists the newest tree"
    diff <(paths_of_ref) <(isoinfo -R -f -i "$IMG" | sed 's|^/||' | LC_ALL=C sort) ||
        fail "isoinfo -R -f does not list the newest tree of session $n"
    ok "isoinfo lists the newest tree"
}

# --- session 1: cp -a into a blank disc, sync MOUNTPOINT
mount_disc "$IMG"
cp -a "$SRC/." "$MNT/"
cp -a "$SRC/." "$REF/" 2>/dev/null || { mkdir -p "$REF"; cp -a "$SRC/." "$REF/"; }
same_as_ref "$MNT" "the mount before any commit"
[ "$(sessions "$IMG")" -eq 0 ] || fail "the image was written before a commit"
sync "$MNT"
check_image 1
same_as_ref "$MNT" "the mount after the first commit"
lba_big=$(lba_of "$IMG" /docs/big.bin)
[ -n "$lba_big" ] || fail "no LBA for /docs/big.bin"
# a file fsync never burns a session
echo more >>"$MNT/a.txt"; echo more >>"$REF/a.txt"
python3 -c "import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd)" "$MNT/a.txt"
[ "$(sessions "$IMG")" -eq 1 ] || fail "fsync of a file wrote a session"
ok "fsync of a file does not write a session"
unmount_disc
check_image 2

# --- session 3: remount, change, delete, rename; commit on unmount
mount_disc "$IMG"
same_as_ref "$MNT" "the remounted disc"
for d in "$MNT" "$REF"; do
    echo "appended" >>"$d/docs/x.txt"
    truncate -s 2 "$d/name with spaces.txt"
    rm "$d/empty"
    rm -r "$d/docs/deep"
    mv "$d/grüße-ünïcödé.txt" "$d/renamed.txt"
    mv "$d/private" "$d/private-renamed"
    mv -T "$d/renamed.txt" "$d/rel-link"     # rename onto an existing name
    chmod 640 "$d/private-renamed/key"
    touch -d '2010-01-01 00:00:01' "$d/a.txt"
    mkdir -m 750 "$d/new dir"
    echo new >"$d/new dir/new file"
    ln -s "new dir/new file" "$d/new-link"
    # the same steps on both trees may straddle a second: pin the times they set
    touch -h -d '2012-12-12 12:12:12' "$d/new dir/new file" "$d/new-link" "$d/docs/x.txt" \
        "$d/name with spaces.txt"
done
same_as_ref "$MNT" "the mount after changes"
unmount_disc
check_image 3
[ "$(lba_of "$IMG" /docs/big.bin)" = "$lba_big" ] || fail "/docs/big.bin moved from LBA $lba_big"
ok "an unchanged file keeps its LBA over 3 sessions ($lba_big)"

# --- no change: no session; discfs commit with nothing pending writes nothing
mount_disc "$IMG"
same_as_ref "$MNT" "the disc mounted after session 3"
cat "$MNT/docs/big.bin" >/dev/null
"$DISCFS" commit "$MNT" || fail "discfs commit with nothing pending failed"
sync "$MNT"
unmount_disc
[ "$(sessions "$IMG")" -eq 3 ] || fail "a mount without changes wrote a session"
ok "a commit with no change leaves the session count at 3"
