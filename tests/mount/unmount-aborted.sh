#!/usr/bin/env bash
# The unmount aborts the FUSE connection; when a worker is just taking a request
# from the kernel's queue then (a RELEASE sent in the background as a file closes),
# its read of /dev/fuse fails with ECONNABORTED instead of ENODEV.  The mount has
# ended all the same: the daemon must write the staged changes as on every unmount
# and exit 0 (the model test met it once in some 1,000 unmounts: exit 1, nothing
# written).  tests/shim/fuse_abort.c turns every such ENODEV into ECONNABORTED.
. "$(dirname "$0")/lib.sh"
: "${FUSE_ABORT_SHIM:?set by meson}"
IMG=$T/a.iso
DISCFS_PREFIX=(env LD_PRELOAD="$FUSE_ABORT_SHIM")

mount_disc "$IMG"
echo one >"$MNT/one"
mkdir "$MNT/d"
fusermount3 -u "$MNT" || fail "fusermount3 -u failed"
rc=0
wait "$PID" || rc=$?
PID=
grep -q "Software caused connection abort" "$LOG" ||
    fail "the shim did not turn the unmount into ECONNABORTED (nothing was tested)"
[ $rc -eq 0 ] || fail "discfs exited with $rc after an unmount reported as ECONNABORTED"
[ "$(sessions "$IMG")" -eq 1 ] || fail "the unmount reported as ECONNABORTED wrote no session"
ok "an unmount reported as ECONNABORTED commits and exits 0"

DISCFS_PREFIX=()
mount_disc "$IMG" -o cache="$T/fresh"
[ "$(cat "$MNT/one")" = one ] && [ -d "$MNT/d" ] || fail "a fresh mount lacks the changes"
unmount_disc
ok "a fresh mount shows them"
