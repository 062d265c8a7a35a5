#!/usr/bin/env bash
# vdrive-space.sh MEDIA CAPACITY: df on a small virtual MEDIA (DESIGN.md, Space).
# f_blocks is the capacity.  Session 1 holds a few files, session 2 is filled
# with cp until ENOSPC; both commits succeed, and after each the free space the
# drive reports (capacity - NWA) is within 1 MiB of what df promised just before
# the commit (f_bavail: free blocks less the session, its padding and its close
# gap).  Prints promise and reality.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
MEDIA=${1:?usage: vdrive-space.sh MEDIA CAPACITY}
CAP=${2:?usage: vdrive-space.sh MEDIA CAPACITY}
MIB=1048576

vd --media "$MEDIA" --capacity "$CAP"
statfs() { python3 -c 'import os, sys; s = os.statvfs(sys.argv[1]); print(s.f_blocks * s.f_frsize, s.f_bavail * s.f_frsize)' "$MNT"; }

# check_promise SESSION PROMISE: commit, then compare with the drive
check_promise() {
    local reality
    sync "$MNT" || fail "session $1: the commit failed: $(cat "$LOG")"
    reality=$(disc_free "$CAP")
    echo "# $MEDIA session $1: df promised $2 bytes free after the commit, the disc has $reality" \
        "(difference $(((reality - $2) / 1024)) KiB)"
    [ $((reality - $2)) -le $MIB ] && [ $(($2 - reality)) -le $MIB ] ||
        fail "session $1: df promised $2 bytes, the disc has $reality"
}

mount_disc "mmc:$NODE"
read -r size avail < <(statfs)
[ "$size" = $((CAP * 2048)) ] || fail "f_blocks is $size bytes, the capacity is $((CAP * 2048))"
mkdir "$MNT/d"
for i in 1 2 3; do head -c $((700 * 1024)) /dev/urandom >"$MNT/d/f$i"; done
read -r size avail < <(statfs)
check_promise 1 "$avail"
unmount_disc
ok "$MEDIA: f_blocks is the capacity; session 1 keeps df's promise"

mount_disc "mmc:$NODE"
head -c $MIB /dev/urandom >"$T/chunk"
i=0
while cp "$T/chunk" "$MNT/fill$i" 2>"$T/cp.err"; do
    i=$((i + 1))
    [ $i -lt 10000 ] || fail "cp never ran out of space"
done
grep -q "No space left on device" "$T/cp.err" || fail "cp failed, but not with ENOSPC: $(cat "$T/cp.err")"
# names cost room in the next session too: creating them ends with ENOSPC as well
read -r n why < <(python3 -c '
import errno, os, sys
for n in range(200000):
    try:
        os.mkdir(os.path.join(sys.argv[1], "d%d" % n))
    except OSError as e:
        print(n, errno.errorcode[e.errno]); break
else:
    print(n, "none")' "$MNT")
[ "$why" = ENOSPC ] || fail "mkdir after $n directories failed with $why, not ENOSPC"
# a symlink costs less than a directory: they run out a little later
j=0
while err=$(ln -s x "$MNT/link$j" 2>&1); do
    j=$((j + 1))
    [ $j -lt 1000 ] || fail "$j symlinks were accepted after mkdir ran out of space"
done
case "$err" in *"No space left on device"*) ;; *) fail "symlink on a full disc: '$err', not ENOSPC" ;; esac
read -r size avail < <(statfs)
# a file larger than the whole medium is EFBIG, not ENOSPC
err=$(truncate -s $((size + 2048)) "$MNT/fill0" 2>&1) && fail "a file larger than the disc was accepted"
case "$err" in *"File too large"*) ;; *) fail "a file larger than the disc: '$err', not EFBIG" ;; esac
check_promise 2 "$avail"
# filled to the promise, the medium may have no room for another session: it is
# closed then, and the mount says so (nothing else)
unmount_disc_noisy
if daemon_said | grep -v "the commit closed the disc" | grep -q .; then fail "unexpected daemon output: $(cat "$LOG")"; fi
ok "$MEDIA: filled with cp until ENOSPC after $i MiB, then with $n directories; the commit succeeded and kept df's promise"
[ "$(toc_starts | wc -w)" = 2 ] || fail "the disc does not have 2 sessions"
