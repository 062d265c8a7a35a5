#!/usr/bin/env bash
# The command line refuses mistakes instead of turning them into mounts (README.md,
# Using it): each refusal exits 1 (failure) or 2 (usage error) with exactly one line
# on stderr that names the thing, mounts nothing and creates no file.
. "$(dirname "$0")/lib.sh"

# a refusal that went wrong may have mounted something anywhere under $T
cleanup_all() {
    local m
    for m in $(awk -v t="$T/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
        fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    [ -z "${OTHER_FD:-}" ] || exec {OTHER_FD}>&-
    rm -f "${SHM_FILE:-/nonexistent}"
    cleanup
}
trap cleanup_all EXIT

mounts_under_T() { awk -v t="$T/" 'index($5, t) == 1' /proc/self/mountinfo | wc -l; }

# refuse STATUS TEXT ARGS...: `discfs ARGS`, run in $T, exits with STATUS, prints one
# line on stderr, "discfs: ..." containing TEXT, nothing on stdout, and mounts nothing
refuse() {
    local want=$1 text=$2 rc=0 before
    shift 2
    before=$(mounts_under_T)
    (cd "$T" && "$DISCFS" "$@") >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "discfs $*: exit status $rc, expected $want: $(cat "$T/err")"
    [ "$(wc -l <"$T/err")" -eq 1 ] ||
        fail "discfs $*: $(wc -l <"$T/err") lines on stderr, expected one:"$'\n'"$(cat "$T/err")"
    grep -q '^discfs: ' "$T/err" || fail "discfs $*: the message is not discfs's: $(cat "$T/err")"
    grep -qF -- "$text" "$T/err" || fail "discfs $*: the message does not say \"$text\": $(cat "$T/err")"
    [ ! -s "$T/out" ] || fail "discfs $*: output on stdout: $(cat "$T/out")"
    [ "$(mounts_under_T)" -eq "$before" ] || fail "discfs $*: something was mounted"
}

# absent PATH...: none of them was created
absent() {
    local p
    for p; do [ ! -e "$p" ] || fail "'$p' was created"; done
}

IMG=$T/disc.iso

# ---- 1. unknown commands are usage errors, never mounts
for _ in $(seq 8); do
    refuse 2 "unknown command 'stauts'; see discfs --help" stauts "$MNT" -o cache="$CACHE"
done
! mountpoint -q "$MNT" || fail "discfs stauts MOUNTPOINT mounted something"
absent "$T/stauts" "$CACHE"
refuse 2 "unknown command 'mount'" mount "$IMG" "$MNT"
absent "$T/mount" "$IMG"
for cmd in commit umount status; do
    refuse 2 "$cmd takes one MOUNTPOINT, none was given" "$cmd"
    refuse 2 "$cmd takes one MOUNTPOINT, '$T' is one too many" "$cmd" "$MNT" "$T"
    refuse 2 "unknown option '-o' of $cmd" "$cmd" "$MNT" -o cache="$CACHE"
    refuse 1 "'$MNT' is not a discfs mount (not a mount point)" "$cmd" "$MNT"
    "$DISCFS" "$cmd" --help >"$T/out" 2>&1 || fail "discfs $cmd --help failed"
    grep -q "^usage: discfs $cmd MOUNTPOINT" "$T/out" || fail "discfs $cmd --help: $(cat "$T/out")"
done
! mountpoint -q "$MNT" || fail "discfs status MOUNTPOINT mounted something"
refuse 2 "unknown option '--close' of status" status "$MNT" --close
refuse 2 "no MOUNTPOINT after '$IMG'" "$IMG"
refuse 2 "unexpected argument 'extra'" "$IMG" "$MNT" extra
absent "$IMG" "$CACHE"
rc=0
"$DISCFS" >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 2 ] || fail "discfs without arguments: exit status $rc, expected 2"
head -1 "$T/err" | grep -q '^usage: ' || fail "discfs without arguments: no usage on stderr"
"$DISCFS" --help >"$T/out" 2>"$T/err" || fail "discfs --help failed"
[ ! -s "$T/err" ] || fail "discfs --help wrote on stderr"
for rule in "bare word" "ends in .iso" "Under /dev only a drive" "-o nonempty" \
    "an empty directory that is not a mount point" "0 success, 1 failure" "2 usage error"; do
    grep -qF -- "$rule" "$T/out" || fail "the usage text does not state: $rule"
done
ok "an unknown command (8 times) is a usage error (2), with one message, and mounts nothing"

# a bare word that names an existing file is an image; ./commit names an image too
: >"$T/backup"
cd "$T" || fail "cannot cd to $T"
mount_disc backup
unmount_disc
: >"$T/commit"
mount_disc ./commit
unmount_disc
cd - >/dev/null || fail "cannot cd back"
ok "a bare word that names a file, and ./commit, are images"

# a missing image file is created only for NAME.iso or stdio:PATH
rm -rf "$CACHE"
refuse 1 "'$T/disc.img' does not exist; a new blank image is made only for a name ending in .iso" \
    "$T/disc.img" "$MNT" -o cache="$CACHE"
absent "$T/disc.img" "$CACHE"
mount_disc "stdio:$T/new"
echo x >"$MNT/f"
unmount_disc
[ "$(sessions "$T/new")" -eq 1 ] || fail "stdio:PATH did not make a new image"
ok "a missing image is created for stdio:PATH, refused for a name without .iso"

# ---- 2. under /dev only drives
rm -rf "$CACHE"
nodrive=/dev/discfs-no-such-drive-$$
refuse 1 "no drive at '$nodrive'" "$nodrive" "$MNT" -o cache="$CACHE"
refuse 1 "no drive at '$nodrive'" "stdio:$nodrive" "$MNT" -o cache="$CACHE"
refuse 1 "no drive at '/dev/shm/discfs-$$.iso'" "/dev/shm/discfs-$$.iso" "$MNT" -o cache="$CACHE"
absent "$nodrive" "/dev/shm/discfs-$$.iso" "$CACHE"
if [ ! -e /dev/sr0 ]; then
    refuse 1 "no drive at '/dev/sr0'" /dev/sr0 "$MNT" -o cache="$CACHE"
    absent /dev/sr0
fi
SHM_FILE=/dev/shm/discfs-$$.file
if : >"$SHM_FILE" 2>/dev/null; then
    refuse 1 "'$SHM_FILE' is not a drive (not a block or character device)" "$SHM_FILE" "$MNT"
    [ ! -s "$SHM_FILE" ] || fail "the file under /dev was written"
fi
refuse 1 "'/dev/shm' is not a drive" /dev/shm "$MNT"
ok "a DEVICE under /dev that is missing or not a drive is refused; nothing is created there"

# ---- 3. a directory, a small file, a file that is not an ISO image
mkdir "$T/dir"
refuse 1 "'$T/dir' is a directory; name an ISO image file" "$T/dir" "$MNT" -o cache="$CACHE"
refuse 1 "'$T/dir' is a directory" "stdio:$T/dir" "$MNT" -o cache="$CACHE"
[ -z "$(ls -A "$T/dir")" ] || fail "something was created in the directory"
echo hello >"$T/small.iso"
refuse 1 "'$T/small.iso' is not an ISO 9660 image" "$T/small.iso" "$MNT" -o cache="$CACHE"
[ "$(cat "$T/small.iso")" = hello ] || fail "the small file was changed"
head -c 100000 /dev/urandom >"$T/random"
cp "$T/random" "$T/random.orig"
refuse 1 "'$T/random' is not an ISO 9660 image" "$T/random" "$MNT" -o cache="$CACHE"
cmp -s "$T/random" "$T/random.orig" || fail "the non-ISO file was changed"
ok "a directory, a small file and a non-ISO file as DEVICE: one message each"

# ---- 4. the mount point
rm -rf "$CACHE"
refuse 1 "cannot mount on '$T/nomnt': it does not exist" "$IMG" "$T/nomnt" -o cache="$CACHE"
refuse 1 "cannot mount on '$T/small.iso': not a directory" "$IMG" "$T/small.iso"
echo keep >"$MNT/mine"
refuse 1 "cannot mount on '$MNT': the directory is not empty" "$IMG" "$MNT" -o cache="$CACHE"
absent "$IMG" "$CACHE"
mount_disc "$IMG" -o nonempty
! grep -F " $MNT " /proc/self/mountinfo | grep -q nonempty || fail "nonempty was passed on to FUSE"
echo data >"$MNT/f"
refuse 1 "cannot mount on '$MNT': it is a mount point already (discfs mount of" \
    "$T/b.iso" "$MNT" -o cache="$T/cache-b"
refuse 1 "it is a mount point already" "$T/b.iso" "$MNT" -o cache="$T/cache-b" -o nonempty
absent "$T/b.iso" "$T/cache-b"
ok "a missing, non-directory, non-empty (unless -o nonempty) or mounted mount point is refused"

# ---- 5. commit and umount only of discfs mounts
refuse 1 "'$T' is not a discfs mount (not a mount point)" commit "$T"
refuse 1 "'$T' is not a discfs mount (not a mount point)" umount "$T"
mkdir "$MNT/sub"
refuse 1 "'$MNT/sub' is not a discfs mount (not a mount point)" umount "$MNT/sub"
refuse 1 "cannot use '$T/missing': No such file or directory" commit "$T/missing"
refuse 1 "cannot use '$T/missing': No such file or directory" umount "$T/missing"
refuse 1 "'/proc' is not a discfs mount (it is a proc mount)" umount /proc
mountpoint -q "$MNT" || fail "a refused discfs umount unmounted the discfs mount"
"$DISCFS" commit "$MNT" 2>"$T/err" || fail "discfs commit of the mount failed: $(cat "$T/err")"
[ "$(sessions "$IMG")" -eq 1 ] || fail "discfs commit did not write a session"
# a discfs mount whose daemon is gone
kill -9 "$PID"
{ wait "$PID"; } 2>/dev/null || true
PID=
refuse 1 "the daemon of the discfs mount '$MNT' is gone" commit "$MNT"
refuse 1 "the daemon of the discfs mount '$MNT' is gone" umount "$MNT"
refuse 1 "its daemon is gone" "$T/b.iso" "$MNT" -o cache="$T/cache-b"
absent "$T/b.iso"
fusermount3 -u -z "$MNT"
# a FUSE mount that is not discfs's (root: a bare fuse.other mount, its daemon gone)
mkdir "$T/other"
if [ "$(id -u)" -eq 0 ] && exec {OTHER_FD}<>/dev/fuse &&
    mount -i -t fuse.other -o fd=$OTHER_FD,rootmode=40000,user_id=0,group_id=0 other "$T/other" 2>/dev/null; then
    exec {OTHER_FD}>&-
    OTHER_FD=
    refuse 1 "'$T/other' is not a discfs mount (it is a fuse.other mount)" umount "$T/other"
    refuse 1 "'$T/other' is not a discfs mount (it is a fuse.other mount)" commit "$T/other"
    grep -qF " $T/other " /proc/self/mountinfo || fail "discfs umount unmounted a FUSE mount not its own"
    refuse 1 "it is a mount point already (fuse.other '" "$IMG" "$T/other"
    umount "$T/other"
    ok "commit and umount refuse a FUSE mount that is not discfs's"
else
    echo "# not root: no FUSE mount of another type to try discfs umount on"
fi
ok "commit and umount refuse paths that are no discfs mount, missing paths and dead mounts"

# ---- 6. options neither discfs nor FUSE knows: refused before anything is opened
rm -rf "$CACHE" "$MNT"/*
refuse 2 "unknown option '-o bogus'; see discfs --help" "$T/c.iso" "$MNT" -o cache="$CACHE" -o bogus
refuse 2 "unknown option '-o bogus'" "$T/c.iso" "$MNT" -o allow_other,bogus,cache="$CACHE"
refuse 2 "unknown option '-o journal=fast'" "$T/c.iso" "$MNT" -o journal=fast
refuse 2 "unknown option '-z'" "$T/c.iso" "$MNT" -z
refuse 2 "unknown option '-o nonempt'" "$T/c.iso" "$MNT" -o nonempt
absent "$T/c.iso" "$CACHE"
mount_disc "$T/c.iso" -o noatime
unmount_disc
ok "unknown options are usage errors before anything is opened; FUSE's own are taken"
