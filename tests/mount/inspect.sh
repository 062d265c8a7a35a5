#!/usr/bin/env bash
# `discfs inspect DEVICE [--cache DIR] [--tree]`: the changes staged for a disc and
# its tree as a mount shows it, without mounting, writing nothing (also while the
# disc is mounted).
. "$(dirname "$0")/lib.sh"
IMG=$T/disc.iso

mount_disc "$IMG"
mkdir -p "$MNT/d/e"
echo a >"$MNT/d/a"
echo b >"$MNT/b"
ln -s b "$MNT/l"
"$DISCFS" commit "$MNT" >/dev/null || fail "the commit failed"
echo new >"$MNT/d/e/n"
rm "$MNT/b"
chmod 700 "$MNT/d"
mkdir "$MNT/x"
echo y >"$MNT/x/y"
setfattr -n user.note -v kept "$MNT/d/a" # an attribute alone is a change too
printf 'n' >"$MNT/new
line" # a name on two lines is shown on one
sync "$CACHE" # (the journal is written at once; its sync does not matter here)
snapshot() { (cd "$CACHE" && find . -printf '%p %s %T@ %m\n' | sort && cat ./*/journal | md5sum); }
before=$(snapshot)
"$DISCFS" inspect "$IMG" --cache "$CACHE" >"$T/out" 2>"$T/err" || fail "inspect of a mounted disc failed: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "inspect wrote to stderr: $(cat "$T/err")"
printf '%s\n' '- /b' '~ /d' '~ /d/a' '+ /d/e/n' '+ /x' '+ /x/y' '+ /new\012line' >"$T/want"
grep '^[-~+] ' "$T/out" >"$T/got" || true
diff "$T/want" "$T/got" || fail "inspect lists other changes: $(cat "$T/out")"
tail -1 "$T/out" | grep -qx "4 added, 2 changed, 1 removed; 6.0 KiB of file content staged" || fail "summary: $(cat "$T/out")"
"$DISCFS" inspect "$IMG" --cache "$CACHE" --tree >"$T/tree" || fail "inspect --tree failed"
grep -qx -- "-0644            4 /d/e/n" "$T/tree" && grep -qx "l0777            1 /l -> b" "$T/tree" &&
    grep -qx "d0700            0 /d" "$T/tree" && ! grep -q " /b$" "$T/tree" || fail "inspect --tree: $(cat "$T/tree")"
stage=$(dirname "$(grep -l . "$CACHE"/*/journal | head -1)")
"$DISCFS" inspect "$stage" >"$T/out2" 2>"$T/err" || fail "inspect of the stage '$stage' failed: $(cat "$T/err")"
diff "$T/out" "$T/out2" || fail "inspect of the stage directory differs from inspect of the disc"
[ "$(snapshot)" = "$before" ] || fail "inspect changed the cache"
ok "inspect lists the staged changes and the staged tree of a mounted disc, by disc or by stage, writing nothing"
mkdir "$T/old" && cp -a "$stage" "$T/old/" # a stage the disc will no longer claim
"$DISCFS" umount "$MNT" >/dev/null || fail "discfs umount failed"
wait "$PID" || fail "the daemon exited with an error"
PID=
"$DISCFS" inspect "$IMG" --cache "$CACHE" >"$T/out" || fail "inspect after the commit failed"
tail -1 "$T/out" | grep -qx "no changes staged" || fail "inspect after the commit: $(cat "$T/out")"
grep -q "^disc   $IMG (stdio file), 2 sessions" "$T/out" || fail "inspect does not describe the disc: $(cat "$T/out")"

rc=0
"$DISCFS" inspect "$T/old/$(basename "$stage")" >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "is not for the newest session of '$IMG' any more" "$T/err" ||
    fail "inspect of a stage its disc no longer claims: $rc $(cat "$T/err")"
rc=0
"$DISCFS" inspect >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 2 ] && grep -q "inspect takes one DEVICE, none was given" "$T/err" || fail "inspect without DEVICE: $rc $(cat "$T/err")"
rc=0
"$DISCFS" inspect "$IMG" --bogus >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] || fail "inspect --bogus: $rc $(cat "$T/err")"
rc=0
"$DISCFS" inspect "$T/none.iso" >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/none.iso" ] || fail "inspect of a missing image: $rc $(cat "$T/err")"
ok "inspect of a disc with nothing staged, and its refusals"

# names: UTF-8 as it is, bytes that are no UTF-8 (and control characters) as \ooo,
# so that a listing is one line a name and never garbles the terminal
IMG2=$T/names.iso
CACHE=$T/cache2
mount_disc "$IMG2"
echo c >"$MNT/café"
echo x >"$MNT/$(printf 'bad\377name')"
echo y >"$MNT/$(printf 'half\303')"
"$DISCFS" inspect "$IMG2" --cache "$CACHE" >"$T/out" 2>"$T/err" || fail "inspect: $(cat "$T/err")"
for want in '+ /café' '+ /bad\377name' '+ /half\303'; do
    grep -qxF -- "$want" "$T/out" || fail "inspect does not show '$want': $(cat "$T/out")"
done
unmount_disc
ok "inspect shows UTF-8 names as they are and other bytes as \\ooo"
