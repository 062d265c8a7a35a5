#!/usr/bin/env bash
# MNT/.sessions is not the tree's: it is neither removed nor moved nor replaced,
# and nothing in it is removed.  rmdir, mv (from it, onto it with -T, into it) and
# rm -rf of it or of a session fail with EROFS ("Read-only file system": it is
# there, it cannot be changed; EBUSY would suggest trying again later), never
# ENOENT; the sessions and the tree stay as they were.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/src/d"
echo one >"$T/src/d/f"
xorriso -outdev "$T/disc.iso" -map "$T/src" / -commit >/dev/null 2>&1 || fail "xorriso: session 1"
mount_disc "$T/disc.iso"
mkdir "$MNT/x"
touch "$MNT/x/in-x"

# refused WHAT CMD...: CMD fails, every message of it says EROFS
refused() {
    local what=$1 out
    shift
    out=$("$@" 2>&1) && fail "$what succeeded"
    grep -qv "Read-only file system" <<<"$out" && fail "$what: '$out'"
    [ -n "$out" ] || fail "$what failed without a word"
}
refused "rmdir of .sessions" rmdir "$MNT/.sessions"
refused "mv of .sessions" mv "$MNT/.sessions" "$MNT/moved"
refused "mv -T of a directory onto .sessions" mv -T "$MNT/x" "$MNT/.sessions"
refused "mv of a directory into .sessions" mv "$MNT/x" "$MNT/.sessions"
refused "rm -rf of session 1" rm -rf "$MNT/.sessions/1"
refused "rm -rf of .sessions" rm -rf "$MNT/.sessions"
refused "rmdir of session 1" rmdir "$MNT/.sessions/1/d" "$MNT/.sessions/1"
[ "$(cat "$MNT/.sessions/1/d/f")" = one ] || fail "session 1 changed"
[ -e "$MNT/x/in-x" ] && [ ! -e "$MNT/moved" ] || fail "the tree changed"
ls -a "$MNT" | grep -qx '.sessions' && fail ".sessions became an entry of the tree"
ok "rmdir, mv and rm -rf of .sessions and of a session fail with EROFS; nothing changed"
unmount_disc
