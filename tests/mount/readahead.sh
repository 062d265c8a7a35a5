#!/usr/bin/env bash
# How far the kernel reads ahead in the mount's files (fs/readahead.c): a FUSE mount
# starts with 128 KiB; discfs sets it at the first open
#  - by default to the readahead of the device that holds the image (if more);
#  - to what -o readahead=KB says (also 0, and less than 128);
#  - a KB that is no size from 0 to 1048576 is a usage error (exit 2), said once.
# The kernel's knob is /sys/class/bdi/MAJ:MIN/read_ahead_kb of the mount (root only).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "only root can set the readahead of a mount"

SRC=$T/src
mkdir -p "$SRC"
head -c 300000 /dev/urandom >"$SRC/f"
DEV=$T/disc.iso
xorriso -outdev "$DEV" -map "$SRC" / >/dev/null 2>&1 || fail "xorriso could not write $DEV"

# the mount's readahead in KiB, after a read of a file
readahead() {
    cmp -s "$SRC/f" "$MNT/f" || fail "$MNT/f does not read back as written"
    cat "/sys/class/bdi/$(mountpoint -d "$MNT")/read_ahead_kb"
}

# the readahead of the image's device, found here another way: lsblk of the
# filesystem's source (none for tmpfs and the like: the kernel's 128 KiB stays)
want=128
src=$(findmnt -no SOURCE -T "$DEV" 2>/dev/null || true)
if [ -b "$src" ]; then
    ra=$(lsblk -dno RA "$src" | tr -d ' ')
    [ "$ra" -gt 128 ] && want=$ra
fi
mount_disc "$DEV"
got=$(readahead)
[ "$got" = "$want" ] || fail "readahead $got KiB, not $want KiB as the image's device ($src)"
unmount_disc
ok "default: as far as the image's device reads ahead ($want KiB, $src)"

for kb in 2048 64 0; do
    mount_disc "$DEV" -o readahead=$kb
    got=$(readahead)
    [ "$got" = "$kb" ] || fail "-o readahead=$kb: the mount reads ahead $got KiB"
    unmount_disc
done
ok "-o readahead=KB sets it (2048, 64, 0)"

for bad in abc -1 1048577 12k "" +5; do
    rc=0
    "$DISCFS" "$DEV" "$MNT" -f -o cache="$CACHE" -o "readahead=$bad" >"$T/out" 2>&1 || rc=$?
    mountpoint -q "$MNT" && fail "-o readahead='$bad' mounted"
    [ $rc = 2 ] || fail "-o readahead='$bad': exit $rc, not 2: $(cat "$T/out")"
    [ "$(cat "$T/out")" = "discfs: -o readahead='$bad' is not a size in KiB from 0 to 1048576; see discfs --help" ] ||
        fail "-o readahead='$bad' said: $(cat "$T/out")"
done
ok "a readahead that is no size from 0 to 1048576 KiB is a usage error, said once"
