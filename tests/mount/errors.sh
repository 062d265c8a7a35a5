#!/usr/bin/env bash
# Bad input: clear messages, a proper exit status, and nothing overwritten.
. "$(dirname "$0")/lib.sh"

# a file that is not an ISO image is refused and left as it was
head -c 100000 /dev/urandom >"$T/garbage"
cp "$T/garbage" "$T/garbage.orig"
if "$DISCFS" "$T/garbage" "$MNT" -f -o cache="$CACHE" >"$LOG" 2>&1; then
    fail "discfs mounted a file of random bytes"
fi
grep -q "'$T/garbage' is not an ISO 9660 image" "$LOG" || fail "no clear message for a non-ISO file"
cmp "$T/garbage" "$T/garbage.orig" || fail "the non-ISO file was changed"
! mountpoint -q "$MNT" || fail "mounted anyway"
ok "a non-ISO file is refused, untouched, with a message that names it"

# a missing directory for the image
if "$DISCFS" "$T/no/such/dir/x.iso" "$MNT" -f -o cache="$CACHE" >"$LOG" 2>&1; then
    fail "discfs mounted an image in a missing directory"
fi
grep -q "no/such/dir/x.iso" "$LOG" || fail "the message does not name the image"
ok "an image in a missing directory is refused with a message that names it"

# a missing mount point
if "$DISCFS" "$T/x.iso" "$T/nomnt" >"$LOG" 2>&1; then fail "mounted on a missing mount point"; fi
grep -q "nomnt" "$LOG" || fail "the message does not name the mount point"
ok "a missing mount point is refused with a message that names it"

# errno of common mistakes inside the mount
mount_disc "$T/x.iso"
mkdir "$MNT/d"; echo x >"$MNT/d/f"
python3 - "$MNT" <<'PY' || fail "an operation returned the wrong errno"
import errno, os, sys
m = sys.argv[1]
def expect(e, f, *a):
    try:
        f(*a)
    except OSError as x:
        if x.errno != e:
            sys.exit(f"{f.__name__}{a}: errno {x.errno}, expected {e}")
        return
    sys.exit(f"{f.__name__}{a}: succeeded, expected errno {e}")
expect(errno.ENOENT, os.stat, m + "/nope")
expect(errno.EEXIST, os.mkdir, m + "/d")
expect(errno.ENOTEMPTY, os.rmdir, m + "/d")
expect(errno.ENOTDIR, os.rmdir, m + "/d/f")
expect(errno.EISDIR, os.unlink, m + "/d")
expect(errno.ENOTDIR, os.mkdir, m + "/d/f/x")
expect(errno.ENAMETOOLONG, os.mkdir, m + "/" + "n" * 256)
expect(errno.EINVAL, os.rename, m + "/d", m + "/d/inside")
expect(errno.EEXIST, os.open, m + "/d/f", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
PY
ok "ENOENT, EEXIST, ENOTEMPTY, ENOTDIR, EISDIR, ENAMETOOLONG, EINVAL as a filesystem gives them"
# the same disc mounted twice would share one stage: the second mount is refused
mkdir -p "$T/mnt2"
if "$DISCFS" "$T/x.iso" "$T/mnt2" -f -o cache="$CACHE" >"$T/log2" 2>&1; then
    fusermount3 -u "$T/mnt2"; fail "the same disc was mounted twice"
fi
grep -q "in use by another discfs mount (pid $PID)" "$T/log2" || { cat "$T/log2" >&2; fail "no clear message for a second mount"; }
ok "a second mount of the same disc is refused, naming the pid of the first"
# also with another cache: the lock is on the image itself (issue 8, defect 6c)
if "$DISCFS" "$T/x.iso" "$T/mnt2" -f -o cache="$T/other-cache" >"$T/log2" 2>&1; then
    fusermount3 -u "$T/mnt2"; fail "the same disc was mounted twice with two caches"
fi
grep -q "'$T/x.iso' is in use by another discfs mount (pid $PID)" "$T/log2" ||
    { cat "$T/log2" >&2; fail "no clear message for a second mount with another cache"; }
[ ! -e "$T/other-cache" ] || [ -z "$(ls -A "$T/other-cache")" ] ||
    fail "the refused mount left a stage in its cache"
ok "a second mount of the same image with another cache is refused too"
unmount_disc
