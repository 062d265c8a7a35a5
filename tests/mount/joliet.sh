#!/usr/bin/env bash
# The Joliet tree (what Windows and 7z read): names converted from UTF-8, no ";1",
# no forced dot, up to 103 characters, and each file's own mtime; names Joliet
# cannot hold are mapped, the same way in every session.  Checked with 7z, with
# isoinfo -J and with bsdtar told to ignore Rock Ridge.
. "$(dirname "$0")/lib.sh"
command -v 7z >/dev/null || skip "7z is not installed (p7zip-full)"
command -v isoinfo >/dev/null || skip "isoinfo is not installed (genisoimage)"
command -v bsdtar >/dev/null || skip "bsdtar is not installed (libarchive-tools)"

IMG=$T/j.iso
S=$T/src
long=$(printf 'l%.0s' $(seq 110))
mkdir -p "$S/Ördner"
for n in café naïve.txt 日本語.txt plain noext "$(printf 'bad\xffname')" "😀smile" \
    "$long.txt" "${long}a" "${long}b" Ördner/inner; do
    echo "$n" >"$S/$n"
done
touch -d '2001-02-03 04:05:06 UTC' "$S/café" "$S/日本語.txt" "$S/Ördner/inner"
touch -d '1999-12-31 23:59:58 UTC' "$S/Ördner"

# joliet_names IMAGE: the Joliet names 7z sees, one per line, sorted
joliet_names() {
    7z l -ba -slt "$1" | sed -n 's/^Path = //p' | LC_ALL=C sort
}
# joliet_mtime IMAGE PATH: the Joliet mtime 7z shows for PATH
joliet_mtime() {
    7z l -slt "$1" | awk -v p="$2" '$0 == "Path = " p {f = 1} f && /^Modified = / {print $3, $4; exit}'
}

mount_disc "$IMG"
cp -a "$S/." "$MNT/"
unmount_disc

names=$(joliet_names "$IMG")
for want in café naïve.txt 日本語.txt plain noext Ördner Ördner/inner; do
    grep -qxF "$want" <<<"$names" || fail "Joliet has no '$want' (7z sees: $(tr '\n' ' ' <<<"$names"))"
done
ok "UTF-8 names are right in Joliet, without ';1' or a forced dot"
grep -qxF "bad_name" <<<"$names" || fail "a name that is not UTF-8 has no Joliet name with '_'"
grep -qxF "_smile" <<<"$names" || fail "a character outside UCS-2 is not mapped to '_'"
[ "$(grep -c '^l\{50\}' <<<"$names")" -eq 3 ] || fail "three long names do not give three Joliet names"
ok "names Joliet cannot hold are mapped and kept apart"

[ "$(joliet_mtime "$IMG" café)" = "2001-02-03 04:05:06" ] ||
    fail "Joliet mtime of café is '$(joliet_mtime "$IMG" café)', not the file's"
[ "$(joliet_mtime "$IMG" Ördner)" = "1999-12-31 23:59:58" ] ||
    fail "Joliet mtime of a directory is '$(joliet_mtime "$IMG" Ördner)', not its own"
ok "Joliet dates are the files' own mtimes"

bsdtar -tf "$IMG" --options 'iso9660:!rockridge' >"$T/bsd" 2>&1 || fail "bsdtar cannot list the Joliet tree"
grep -qxF 'Ördner/inner' "$T/bsd" || fail "bsdtar (Joliet only) does not see Ördner/inner"
bsdtar -xOf "$IMG" --options 'iso9660:!rockridge' 日本語.txt | grep -qxF 日本語.txt ||
    fail "bsdtar (Joliet only) reads 日本語.txt wrong"
ok "bsdtar reads the Joliet tree"

# isoinfo (genisoimage) has no UTF-8 output: in ISO 8859-1 the Latin names must come
# out whole (UCS-2 converted back), and a file read by its Joliet path
isoinfo -J -j iso8859-1 -l -i "$IMG" 2>&1 | iconv -f iso8859-1 -t utf-8 >"$T/isoinfo" ||
    fail "isoinfo -J cannot list the image: $(cat "$T/isoinfo")"
for want in café naïve.txt Ördner inner; do
    grep -q " $want *$" "$T/isoinfo" || fail "isoinfo -J does not list '$want': $(cat "$T/isoinfo")"
done
got=$(isoinfo -J -j iso8859-1 -x "$(printf '/caf\xe9')" -i "$IMG" 2>&1)
[ "$got" = "$(cat "$S/café")" ] || fail "isoinfo -J reads café as '$got'"
ok "isoinfo -J lists the Joliet names and reads a file by its Joliet path"

# a second session: the old files keep their Joliet names.  (Not yet those
# mangled apart after truncation: libisofs numbers them in sorted order, so a new
# clashing sibling can shift them; README, Joliet.)
mount_disc "$IMG"
echo new >"$MNT/${long}0"
echo new >"$MNT/zzz"
unmount_disc
names2=$(joliet_names "$IMG")
diff <(grep -vxF zzz <<<"$names2" | grep -v '^l\{50\}') <(grep -v '^l\{50\}' <<<"$names") >/dev/null ||
    fail "Joliet names changed in the next session"
[ "$(grep -c '^l\{50\}' <<<"$names2")" -eq 4 ] || fail "four long names do not give four Joliet names"
ok "the next session keeps the Joliet names"

# Rock Ridge still has every byte of every name
rm -rf "$CACHE"
mount_disc "$IMG" -o ro
rm -f "$S/dummy"
out=$(rsync -rlcn -i --exclude "${long}0" --exclude zzz "$S/" "$MNT/")
[ -z "$out" ] || fail "Rock Ridge names or content differ from the source: $out"
fusermount3 -u "$MNT"
wait "$PID"
PID=
ok "Rock Ridge names stay byte-exact"
