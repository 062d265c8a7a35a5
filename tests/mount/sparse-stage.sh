#!/usr/bin/env bash
# Zeros written into staged files take no room in the cache: whole 4 KiB blocks of
# zeros are left as holes (punched where they overwrite data), whether they come
# from dd, cp, rsync without -S, or an on-disc file copied up.  The content reads
# back exact, and the disc still gets every byte (ISO 9660 has no holes).
. "$(dirname "$0")/lib.sh"
command -v rsync >/dev/null || skip "rsync is not installed"

IMG=$T/s.iso
# cache_kib: what the stage takes on the cache's filesystem
cache_kib() { du -sk "$CACHE" | cut -f1; }

mount_disc "$IMG"
dd if=/dev/zero of="$T/zeros" bs=1M count=64 status=none
rsync "$T/zeros" "$MNT/zeros" || fail "rsync of 64 MiB of zeros failed"
[ "$(cache_kib)" -lt 2048 ] || fail "64 MiB of zeros took $(cache_kib) KiB of cache"
cmp "$MNT/zeros" "$T/zeros" || fail "the zeros read back wrong"
{ head -c 100000 /dev/urandom; head -c 3000000 /dev/zero; head -c 5000 /dev/urandom; } >"$T/mixed"
cp "$T/mixed" "$MNT/mixed"
cmp "$MNT/mixed" "$T/mixed" || fail "a file of data and zeros reads back wrong"
head -c 8388608 /dev/urandom >"$T/data"
cp "$T/data" "$MNT/data"
before=$(cache_kib)
dd if=/dev/zero of="$MNT/data" bs=1M seek=1 count=6 conv=notrunc status=none
dd if=/dev/zero of="$T/data" bs=1M seek=1 count=6 conv=notrunc status=none
[ "$(cache_kib)" -lt $((before - 5000)) ] || fail "zeros over data did not free cache ($before -> $(cache_kib) KiB)"
cmp "$MNT/data" "$T/data" || fail "data overwritten with zeros reads back wrong"
ok "zeros in staged files are holes in the cache; the content reads back exact"

unmount_disc
size=$(stat -c %s "$IMG")
[ "$size" -gt $((64 * 1048576)) ] || fail "the session does not hold the zeros ($size bytes)"
rm -rf "$CACHE"
mount_disc "$IMG"
for f in zeros mixed data; do cmp "$MNT/$f" "$T/$f" || fail "$f reads wrong after the commit"; done
echo x >>"$MNT/zeros" # a copy-up of 64 MiB of zeros from the disc
[ "$(cache_kib)" -lt 2048 ] || fail "a copy-up of zeros took $(cache_kib) KiB of cache"
{ cat "$T/zeros"; echo x; } | cmp - "$MNT/zeros" || fail "the copied-up file reads wrong"
unmount_disc
ok "the disc holds every zero; a copy-up keeps them holes in the cache"
