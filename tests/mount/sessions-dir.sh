#!/usr/bin/env bash
# sessions-dir.sh [cdr]: every session is a snapshot, seen beside the tree while
# mounted (issue 11 item 4).  Three weekly backups of a hostile tree by
# rsync -aHAX into one mount (each a `sync`), then, in that same mount:
#  - MNT/.sessions/N is week N as it was written: rsync -c --dry-run -i of each
#    week's copy of the source against it prints nothing (hard links, xattrs, ACLs);
#  - .sessions is not listed in the root (find, du, rsync of the mount do not walk
#    the sessions), its entries are 1..N, a commit adds the next one;
#  - a restore: rsync of .sessions/1 to a local folder, then of .sessions/2 with
#    --link-dest of the first restore (unchanged files become hard links);
#  - rsync --link-dest=MNT/.sessions/2 into the mount: links across fail as across
#    filesystems (EXDEV), rsync copies, and the copies cost the session no data;
#  - no inode number is shared between the tree and a session, or two sessions;
#  - writes into a session fail with EROFS; a `.sessions` of the tree itself wins.
# Then the same comparisons on a fresh mount with an empty cache.  On an image file,
# or (cdr) on a virtual CD-R.
. "$(dirname "$0")/lib.sh"
command -v rsync >/dev/null || skip "rsync is not installed"
MEDIA=${1:-}
if [ -n "$MEDIA" ]; then
    . "$(dirname "$0")/vdrive.sh"
    vd --media "$MEDIA"
    DEV=mmc:$NODE
    toc() { xo "$T/w" -toc >/dev/null; cat "$T/w"; }
else
    DEV=$T/disc.iso
    toc() { xorriso -indev "$DEV" -toc 2>/dev/null; }
fi
# session_blocks N: the size of session N in blocks, as xorriso -toc lists it (unmounted)
session_blocks() { toc | awk -v n="$1" '/^ISO session/ && $4 == n {sub(/s$/, "", $8); print $8}'; }
SRC=$T/src
HERE=$(dirname "$0")

# week N: the source as it is now, kept for the comparisons
python3 "$HERE/hostile-tree.py" build "$SRC" --entries 600 --no-big --seed 7 >"$T/build.txt"
mount_disc "$DEV"
for week in 1 2 3; do
    if [ "$week" -gt 1 ]; then
        python3 "$HERE/hostile-tree.py" mutate "$SRC" --round "$week" --seed 7 >/dev/null
    fi
    rsync -aHAX --delete "$SRC/" "$T/week$week/" || fail "keeping week $week's source"
    rsync -aHAX --delete "$SRC/" "$MNT/" || fail "rsync of week $week into the mount"
    sync "$MNT" || fail "sync of week $week"
done
ok "three weeks by rsync -aHAX into one mount, a sync each"

# compare_week N DIR [RSYNC OPTIONS]: DIR holds week N exactly (rsync -c prints nothing)
compare_week() {
    local out rc=0
    out=$(rsync "${3:--aHAXc}" --dry-run -i --delete "$T/week$1/" "$2/" 2>&1) || rc=$?
    [ $rc = 0 ] && [ -z "$out" ] || fail "$2 is not week $1 (rsync exit $rc):
$(head -20 <<<"$out")"
}

check_sessions() {
    local list
    list=$(ls "$MNT/.sessions" | tr '\n' ' ')
    [ "$list" = "1 2 3 " ] || fail "$1: .sessions lists '$list'"
    for week in 1 2 3; do compare_week $week "$MNT/.sessions/$week"; done
    ok "$1: .sessions/N is week N (rsync -aHAXc --dry-run -i prints nothing)"
}
check_sessions "in the mount that wrote them"

ls -a "$MNT" | grep -qx '.sessions' && fail ".sessions is listed in the root"
[ -z "$(find "$MNT" -path '*/.sessions*' -print -quit)" ] || fail "find walks into .sessions"
rsync -aHAXc --dry-run -i --delete "$SRC/" "$MNT/" >"$T/out" 2>&1 || fail "rsync of the mount: $(cat "$T/out")"
[ ! -s "$T/out" ] || fail "rsync of the source against the mount: $(head "$T/out")"
ok ".sessions is not listed in the root; find and rsync of the mount leave it out"

# inode numbers: one inode, one tree
python3 - "$MNT" <<'PY' || fail "an inode number is shared between trees"
import os, sys
mnt = sys.argv[1]
owner = {}
for tree in [mnt] + [os.path.join(mnt, ".sessions", n) for n in ("1", "2", "3")]:
    for d, dirs, files in os.walk(tree):
        if d == mnt and ".sessions" in dirs:
            dirs.remove(".sessions")
        for name in dirs + files:
            ino = os.lstat(os.path.join(d, name)).st_ino
            if owner.setdefault(ino, tree) != tree:
                sys.exit(f"inode {ino} is in {owner[ino]} and in {tree} ({d}/{name!r})")
PY
ok "no inode number is shared between the tree and a session, or two sessions"

# a restore of week 1, then of week 2 linked to it
rsync -aHAX "$MNT/.sessions/1/" "$T/restore1/" || fail "restore of session 1"
compare_week 1 "$T/restore1"
rsync -aHAX --link-dest="$T/restore1" "$MNT/.sessions/2/" "$T/restore2/" || fail "restore of session 2"
compare_week 2 "$T/restore2"
linked=$(find "$T/restore2" -type f -links +1 | wc -l)
[ "$linked" -gt 100 ] || fail "the restore of session 2 shares only $linked files with that of session 1"
ok "rsync restores of sessions 1 and 2 (--link-dest: $linked files linked)"

# rsync --link-dest of a session into the mount: copies, which cost no data
rsync -aHAX --link-dest="$MNT/.sessions/2/" "$T/week2/" "$MNT/copy2/" 2>"$T/rsync.err" ||
    fail "rsync --link-dest=.sessions/2 into the mount: $(cat "$T/rsync.err")"
# rsync itself leaves out the xattrs of symlinks and special files whose hard link
# from --link-dest failed with EXDEV (3.2.7, as from a tmpfs to ext4): no X here
compare_week 2 "$MNT/copy2" -aHAc
data=$(du -sk --apparent-size "$T/week2" | cut -f1)
sync "$MNT" || fail "sync after the copy"
ls "$MNT/.sessions/4" >/dev/null || fail "the new session 4 is not in .sessions"
rm -rf "$MNT/copy2"
touch -r "$T/week3" "$MNT" # the root as week 3 has it
sync "$MNT" || fail "sync after removing the copy"
ok "rsync --link-dest=MNT/.sessions/2 into the mount copies week 2"

# read-only
err=$(touch "$MNT/.sessions/1/new" 2>&1) && fail "a file was made in session 1"
case "$err" in *"Read-only file system"*) ;; *) fail "touch in session 1: '$err'" ;; esac
f=$(cd "$MNT/.sessions/1" && find . -type f -links 1 -print -quit)
err=$(ln "$MNT/.sessions/1/$f" "$MNT/linked" 2>&1) && fail "a hard link into session 1 was made"
case "$err" in *"Invalid cross-device link"*) ;; *) fail "ln from session 1: '$err'" ;; esac
err=$(rm -rf "$MNT/.sessions/2" 2>&1) && fail "session 2 was removed"
[ -d "$MNT/.sessions/2" ] || fail "session 2 is gone"
ok "sessions are read-only; links out of them are across filesystems"

unmount_disc
blocks=$(session_blocks 4)
echo "session 4 (a copy of week 2, $data KiB of data, by rsync --link-dest): $blocks blocks"
[ $((blocks * 2)) -lt "$data" ] || fail "the copy cost $blocks blocks of 2 KiB for $data KiB of data"
ok "the copy made by rsync --link-dest costs $blocks blocks (dedup)"
rm -rf "$CACHE"
mount_disc "$DEV"
list=$(ls "$MNT/.sessions" | tr '\n' ' ')
[ "$list" = "1 2 3 4 5 " ] || fail "a fresh mount lists '$list' in .sessions"
for week in 1 2 3; do compare_week $week "$MNT/.sessions/$week"; done
compare_week 3 "$MNT"
ok "a fresh mount with an empty cache shows the same sessions"

unmount_disc

# a .sessions of the tree itself comes first
rm -rf "$T/own" && mkdir -p "$T/own/.sessions" && echo mine >"$T/own/.sessions/f"
xorriso -outdev "$T/own.iso" -map "$T/own" / >/dev/null 2>&1 || fail "xorriso could not make own.iso"
mount_disc "$T/own.iso"
[ "$(cat "$MNT/.sessions/f")" = mine ] || fail "the tree's own .sessions is not shown"
ls -a "$MNT" | grep -qx '.sessions' || fail "the tree's own .sessions is not listed"
[ "$(grep -c "has an entry '.sessions' of its own" "$LOG")" = 1 ] || fail "not said once: $(cat "$LOG")"
: >"$LOG"
unmount_disc
ok "an entry .sessions of the tree wins over the sessions"
