#!/usr/bin/env bash
# xattrs with empty values (setfattr -n NAME without a value) are written, read
# back by a fresh mount and by xorriso, and a later change of their file or
# directory still commits (libisofs 1.5.4 encodes an empty value that comes last
# so that the node's attributes can no longer be decoded: every later commit of
# the node failed with EIO).
. "$(dirname "$0")/lib.sh"
command -v setfattr >/dev/null || skip "setfattr is not installed (attr)"

IMG=$T/x.iso
mount_disc "$IMG"
mkdir "$MNT/d" "$MNT/only"
echo f >"$MNT/f"
setfattr -n user.a -v abcd "$MNT/d"
setfattr -n user.b "$MNT/d"
setfattr -n user.a -v abcd "$MNT/f"
setfattr -n user.b "$MNT/f"
setfattr -n user.e "$MNT/only"
unmount_disc

# xattrs_of PATH: name=value lines, sorted
xattrs_of() { getfattr -d --absolute-names "$1" 2>/dev/null | grep -v '^#' | grep . | sort; }
check() {
    [ "$(xattrs_of "$MNT/d")" = "$(printf 'user.a="abcd"\nuser.b=""')" ] ||
        fail "$1: the xattrs of d are '$(xattrs_of "$MNT/d")'"
    [ "$(xattrs_of "$MNT/f")" = "$(printf 'user.a="abcd"\nuser.b=""')" ] ||
        fail "$1: the xattrs of f are '$(xattrs_of "$MNT/f")'"
    [ "$(xattrs_of "$MNT/only")" = 'user.e=""' ] || fail "$1: the xattrs of only are '$(xattrs_of "$MNT/only")'"
}
rm -rf "$CACHE"
mount_disc "$IMG"
check "session 1"
xorriso -for_backup -indev "$IMG" -getfattr /only 2>/dev/null | grep -qx 'user.e=""' ||
    fail "xorriso does not see the empty xattr of /only"
ok "empty xattr values are written and read back"
touch -d 2001-01-01 "$MNT/d" "$MNT/f" "$MNT/only"
sync "$MNT" || fail "a change of nodes with empty xattrs does not commit: $(cat "$LOG")"
unmount_disc
rm -rf "$CACHE"
mount_disc "$IMG"
check "session 2"
unmount_disc
ok "nodes with empty xattr values commit again when they change"
