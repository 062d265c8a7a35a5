#!/usr/bin/env bash
# A user without privileges mounts an image file through fusermount3, writes, commits.
. "$(dirname "$0")/lib.sh"
command -v setpriv >/dev/null || skip "setpriv is not installed"
if [ "$(id -u)" -eq 0 ]; then
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$T")
    chown 65534:65534 "$T" "$MNT"
    chmod 755 "$T"
else
    as_user=(env)
fi
# Debian makes /dev/fuse 0666; a machine where the user cannot open it cannot do this
"${as_user[@]}" sh -c '[ -r /dev/fuse ] && [ -w /dev/fuse ]' ||
    skip "/dev/fuse is $(stat -c %a /dev/fuse) here: an unprivileged user cannot open it"
IMG=$T/user.iso
"${as_user[@]}" "$DISCFS" "$IMG" "$MNT" -f >"$LOG" 2>&1 &
PID=$!
# (root cannot look into another user's FUSE mount without allow_other: ask mountinfo)
mounted() { awk -v m="$MNT" '$5 == m {found=1} END {exit !found}' /proc/self/mountinfo; }
for _ in $(seq 200); do mounted && break; sleep 0.05; done
mounted || fail "an unprivileged user could not mount"
"${as_user[@]}" sh -c "echo mine > '$MNT/f' && mkdir '$MNT/d' && sync '$MNT'" || fail "the user could not write"
[ "$("${as_user[@]}" stat -c %u "$MNT/f")" = "$(stat -c %u "$T")" ] || fail "the file is not owned by the user"
[ "$(sessions "$IMG")" -eq 1 ] || fail "the user's sync did not write a session"
"${as_user[@]}" fusermount3 -u "$MNT" || fail "the user could not unmount"
wait "$PID" || fail "discfs exited with an error"
PID=
expect_quiet_log
[ -d "$T/.cache/discfs" ] || fail "the default cache is not under the user's home"
[ "$(stat -c %a "$T/.cache/discfs")" = 700 ] || fail "the user's cache is not private"
ok "an unprivileged user mounts, writes, commits and unmounts; the cache is private"
