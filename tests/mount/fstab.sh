#!/usr/bin/env bash
# mount(8) runs discfs: `mount -t fuse.discfs IMAGE MNT -o cache=DIR` and `umount MNT`,
# and an fstab line (noauto,user) mounted by its mount point, by root and by a user,
# whose stage must be in that user's cache.
#
# mount(8) runs the helper mount.fuse3 (package fuse3) without PATH and HOME;
# mount.fuse3 runs `discfs IMAGE MNT -o OPTIONS` through /bin/sh, whose default PATH
# starts with /usr/local/sbin:/usr/local/bin, and sets HOME=/root, also for a user
# mount, which it runs as that user.  So the test runs in a private mount namespace
# in which the built discfs is /usr/local/bin/discfs and /etc/fstab, /etc/passwd,
# /etc/group and /run/mount are its own: nothing of the machine is changed.
#
# The user part needs a /dev/fuse the user may open: Debian makes it 0666; where it
# is not (this machine: 0600), the namespace gets its own 0666 node of the same
# device; where that cannot be made, the user part is not run and the test says so.
if [ -z "${DISCFS_FSTAB_NS:-}" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: mount -t and a private mount namespace need root"
        exit 77
    fi
    if ! unshare --mount --propagation private true 2>/dev/null; then
        echo "SKIP: unshare --mount (a private mount namespace) is not allowed here"
        exit 77
    fi
    DISCFS_FSTAB_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
command -v setpriv >/dev/null || skip "setpriv is not installed (package util-linux)"
IMG=$T/disc.iso
FSTAB=$T/fstab
chmod 755 "$T"
# the user's mount and the namespace's own /dev/fuse node (part 3), then lib.sh's
trap 'fusermount3 -u -z "$T/home/mnt" 2>/dev/null || true; umount -l "$T/dev" 2>/dev/null || true; cleanup' EXIT

# the daemon of the discfs mount at $1 (mount.fuse3 runs it in the background)
daemon_of() {
    pgrep -f -- "^discfs [^ ]+ $1 " || fail "no discfs daemon serves $1"
}
# wait_gone PID: the daemon ends after its last commit
wait_gone() {
    for _ in $(seq 600); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.05
    done
    fail "the daemon (pid $1) did not end within 30 s of the unmount"
}
mounted_as() { # MNT TYPE: the topmost mount at MNT has type TYPE (root may not look into a user's FUSE mount)
    awk -v m="$1" '$5 == m {split($0, a, " - "); split(a[2], f, " "); t = f[1]} END {print t}' /proc/self/mountinfo |
        grep -qx "$2"
}

mkdir -p "$T/bin"
cp "$DISCFS" "$T/bin/discfs"
chmod 755 "$T/bin" "$T/bin/discfs"
mount --bind "$T/bin" /usr/local/bin || fail "cannot bind $T/bin on /usr/local/bin in the test's namespace"
found=$(env -i /bin/sh -c 'command -v discfs') || true
[ "$found" = /usr/local/bin/discfs ] ||
    fail "/bin/sh without PATH (as mount.fuse3 runs it) finds '$found', not /usr/local/bin/discfs"

# 1. mount -t fuse.discfs, sync, umount
mount -t fuse.discfs "$IMG" "$MNT" -o cache="$CACHE",relatime 2>"$T/err" ||
    fail "mount -t fuse.discfs failed: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "mount -t fuse.discfs said: $(cat "$T/err")"
mounted_as "$MNT" fuse.discfs || fail "no fuse.discfs mount at $MNT"
PID=$(daemon_of "$MNT")
echo one >"$MNT/one"
sync "$MNT" || fail "sync $MNT failed"
[ "$(sessions "$IMG")" -eq 1 ] || fail "sync $MNT did not write a session"
[ -n "$(ls "$CACHE")" ] || fail "the stage is not in -o cache=$CACHE"
echo two >"$MNT/two"
umount "$MNT" || fail "umount $MNT failed"
wait_gone "$PID"
PID=
! mountpoint -q "$MNT" || fail "$MNT is still mounted after umount"
[ "$(sessions "$IMG")" -eq 2 ] || fail "the daemon ended without writing its last session at umount"
ok "mount -t fuse.discfs (with mount's relatime) mounts, sync writes a session, umount ends the mount with a last one"

# an option that discfs does not know is refused through mount(8) too
if mount -t fuse.discfs "$IMG" "$MNT" -o cache="$CACHE",nosymfollow 2>"$T/err"; then
    fail "mount -t fuse.discfs accepted -o nosymfollow, which discfs cannot honour"
fi
grep -q "unknown option '-o nosymfollow'" "$T/err" || fail "no clear message for nosymfollow: $(cat "$T/err")"
! mountpoint -q "$MNT" || fail "mounted although an option was refused"
ok "an option discfs does not know is refused through mount(8), and nothing is mounted"

# 2. an fstab line, mounted by its mount point (as root: -T names the fstab)
echo "$IMG $MNT fuse.discfs noauto,user,cache=$CACHE 0 0" >"$FSTAB"
mount -T "$FSTAB" "$MNT" 2>"$T/err" || fail "mount -T $FSTAB $MNT failed: $(cat "$T/err")"
mounted_as "$MNT" fuse.discfs || fail "the fstab line did not mount fuse.discfs at $MNT"
PID=$(daemon_of "$MNT")
[ "$(cat "$MNT/two")" = two ] || fail "the fstab mount does not show the disc's newest session"
echo three >"$MNT/three"
umount "$MNT" || fail "umount $MNT (fstab) failed"
wait_gone "$PID"
PID=
[ "$(sessions "$IMG")" -eq 3 ] || fail "umount of the fstab mount did not write a session"
ok "an fstab line with noauto,user mounts by its mount point; umount writes the session"

# 3. the same line mounted by a user: the stage goes to that user's cache, not root's
if ! setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '[ -r /dev/fuse ] && [ -w /dev/fuse ]'; then
    dev="$((16#$(stat -c %t /dev/fuse))) $((16#$(stat -c %T /dev/fuse)))"
    mkdir "$T/dev"
    # shellcheck disable=SC2086 # major and minor
    if ! { mount -t tmpfs -o mode=755 tmpfs "$T/dev" && mknod -m 666 "$T/dev/fuse" c $dev &&
        mount --bind "$T/dev/fuse" /dev/fuse; } 2>"$T/err"; then
        echo "NOT RUN: a user mount: /dev/fuse is $(stat -c %a /dev/fuse) here and no node of" \
            "it can be made in the test's namespace ($(cat "$T/err"))"
        exit 0
    fi
fi
uid=
for u in $(seq 64000 64100); do
    if ! getent passwd "$u" >/dev/null && ! getent group "$u" >/dev/null; then
        uid=$u
        break
    fi
done
[ -n "$uid" ] || fail "no free uid in 64000-64100 for the test's user"
HOMEDIR=$T/home
mkdir -p "$HOMEDIR/mnt" "$T/run-mount"
chown -R "$uid:$uid" "$HOMEDIR"
chmod 755 "$HOMEDIR"
cp /etc/passwd "$T/passwd"
cp /etc/group "$T/group"
echo "discfs-fstab:x:$uid:$uid:discfs fstab test:$HOMEDIR:/bin/sh" >>"$T/passwd"
echo "discfs-fstab:x:$uid:" >>"$T/group"
UIMG=$HOMEDIR/disc.iso
UMNT=$HOMEDIR/mnt
echo "$UIMG $UMNT fuse.discfs noauto,user 0 0" >>"$FSTAB"
for f in passwd group fstab; do
    mount --bind "$T/$f" "/etc/$f" || fail "cannot bind the test's $f on /etc/$f in its namespace"
done
if [ -d /run/mount ]; then mount --bind "$T/run-mount" /run/mount || fail "cannot bind /run/mount"; fi
as_user=(setpriv --reuid="$uid" --regid="$uid" --clear-groups env -u XDG_CACHE_HOME HOME="$HOMEDIR")
"${as_user[@]}" mount "$UMNT" 2>"$T/err" || fail "the user could not mount $UMNT from fstab: $(cat "$T/err")"
mounted_as "$UMNT" fuse.discfs || fail "the user's fstab line did not mount fuse.discfs at $UMNT"
PID=$(daemon_of "$UMNT")
[ "$(stat -c %u "/proc/$PID")" = "$uid" ] || fail "the daemon of a user mount does not run as the user"
"${as_user[@]}" sh -c "echo mine >'$UMNT/mine' && sync '$UMNT'" || fail "the user could not write and sync"
[ "$(sessions "$UIMG")" -eq 1 ] || fail "the user's sync did not write a session"
"${as_user[@]}" sh -c "echo more >'$UMNT/more'" || fail "the user could not write"
stages=$(find "$HOMEDIR/.cache/discfs" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
[ "$stages" -eq 1 ] || fail "the user's stage is not in $HOMEDIR/.cache/discfs (the user's home in passwd)"
[ "$(stat -c '%u %a' "$HOMEDIR/.cache/discfs")" = "$uid 700" ] || fail "the user's cache is not the user's, mode 700"
"${as_user[@]}" umount "$UMNT" 2>"$T/err" || fail "the user could not umount $UMNT: $(cat "$T/err")"
wait_gone "$PID"
PID=
[ "$(sessions "$UIMG")" -eq 2 ] || fail "the user's umount did not write the last session"
ok "a user mounts the fstab line (noauto,user) and unmounts it; the stage is in the user's ~/.cache/discfs although mount.fuse3 sets HOME=/root"
