#!/usr/bin/env bash
# What Rock Ridge cannot hold exactly is kept exactly in private AAIP attributes
# (DESIGN.md, Metadata fidelity): symlink targets with a trailing slash or '.',
# '..' and empty components, mtimes outside 1900..2155, nanoseconds.  A fresh mount
# of the image with an empty cache shows them as they were, so that an rsync of an
# unchanged tree finds nothing to do (issue 8, hostile-tree findings).
. "$(dirname "$0")/lib.sh"
command -v rsync >/dev/null || skip "rsync is not installed"

IMG=$T/disc.iso
SRC=$T/src
mkdir -p "$SRC/dir"
i=0
for t in dir/ nothing/ ./ . .. ../x a//b a/./b a/. a/.. /abs/ //x plain; do
    ln -s "$t" "$SRC/l$i"
    i=$((i + 1))
done
echo f >"$SRC/f2156"
touch -d '2156-01-01 00:00:00.5 UTC' "$SRC/f2156"
echo f >"$SRC/f2446"
touch -d '2446-05-10 22:38:55.123456789 UTC' "$SRC/f2446"
echo f >"$SRC/f1850"
touch -d '1850-06-01 12:00:00.000000001 UTC' "$SRC/f1850"
touch -h -d '2200-01-01 UTC' "$SRC/l0"
touch -d '2300-01-01 UTC' "$SRC/dir"

mount_disc "$IMG"
rsync -aHAX "$SRC/" "$MNT/"
sync "$MNT" || fail "the commit failed"
unmount_disc
mkdir -p "$T/mnt2"
"$DISCFS" "$IMG" "$T/mnt2" -o cache="$T/fresh-cache" 2>"$T/fresh.log" || fail "a fresh mount failed"
out=$(rsync -aHAXc --dry-run -i --delete "$SRC/" "$T/mnt2/" 2>&1)
for l in "$SRC"/l*; do
    [ "$(readlink "$T/mnt2/${l##*/}")" = "$(readlink "$l")" ] ||
        echo "${l##*/}: '$(readlink "$T/mnt2/${l##*/}")' for '$(readlink "$l")'" >>"$T/diff"
done
for f in f2156 f2446 f1850 dir l0; do
    [ "$(stat -c %y "$T/mnt2/$f")" = "$(stat -c %y "$SRC/$f")" ] ||
        echo "$f: $(stat -c %y "$T/mnt2/$f") for $(stat -c %y "$SRC/$f")" >>"$T/diff"
done
fusermount3 -u "$T/mnt2"
[ -z "$out" ] || { echo "$out" >&2; fail "rsync -c finds differences after a fresh mount"; }
[ ! -s "$T/diff" ] || { cat "$T/diff" >&2; fail "targets or times differ after a fresh mount"; }
xorriso -md5 on -indev "$IMG" -check_md5_r sorry / -- 2>&1 | grep -q 'match' ||
    fail "xorriso -check_md5_r does not find the MD5s matching"
ok "symlink targets and mtimes that Rock Ridge cannot hold come back exactly"
