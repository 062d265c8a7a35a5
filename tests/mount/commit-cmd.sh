#!/usr/bin/env bash
# `discfs commit` and `discfs status` ask the daemon through its control channel
# (fs/control.h): the commit shows its phases and progress (lines, or a bar on a
# terminal), its exit status is the result with the cause named; status shows the
# disc, the pending changes and the last commit; only the mounting user and root
# may commit (also by sync); a commit asked for this way leaves the root free.
. "$(dirname "$0")/lib.sh"
IMG=$T/disc.iso

json() { # json KEY: the value of KEY in `discfs status --json`
    "$DISCFS" status "$MNT" --json >"$T/status.json" || fail "discfs status --json failed"
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(str(v).lower() if isinstance(v, bool) else v)' \
        "$T/status.json" "$1"
}

mount_disc "$IMG"
mkdir "$MNT/d"
echo one >"$MNT/d/one"
echo two >"$MNT/d/two"
echo three >"$MNT/three"
dd if=/dev/urandom of="$MNT/big" bs=1M count=96 status=none
[ "$(json added)" = 5 ] || fail "status: $(json added) added, expected 5: $(cat "$T/status.json")"
[ "$(json removed)" = 0 ] && [ "$(json changed)" = 0 ] || fail "status before the first commit: $(cat "$T/status.json")"
[ "$(json state)" = blank ] && [ "$(json sessions)" = 0 ] || fail "status of a blank image: $(cat "$T/status.json")"
[ "$(json staged_bytes)" -ge $((96 << 20)) ] || fail "status: staged bytes $(json staged_bytes)"
next=$(json next_session_bytes)
[ "$next" -gt $((96 << 20)) ] && [ "$next" -lt $((97 << 20)) ] || fail "status: next session $next bytes"
[ "$(json last_commit_ended)" = 0 ] || fail "status: a last commit before any"
stage_use=$(json stage_disk_bytes)
[ "$stage_use" -ge $((96 << 20)) ] && [ "$stage_use" -lt $((98 << 20)) ] || fail "status: the stage takes $stage_use bytes for 96 MiB staged"

# ---- progress as lines when stdout is not a terminal
"$DISCFS" commit "$MNT" >"$T/out" 2>"$T/err" || fail "discfs commit failed: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "discfs commit wrote to stderr: $(cat "$T/err")"
for phase in "checking the disc" "writing 96.1 MiB" "verifying"; do
    grep -q "^$phase" "$T/out" || fail "discfs commit did not show '$phase': $(cat "$T/out")"
done
grep -qE "^writing +[0-9]+% [0-9.]+ MiB of 96.1 MiB, [0-9.]+ MB/s, [0-9:s]+ left$" "$T/out" ||
    fail "no progress line while writing: $(cat "$T/out")"
tail -1 "$T/out" | grep -qE "^discfs: session 1 written to '$IMG' and verified \(96.[0-9] MiB in [0-9]+s\)$" ||
    fail "the last line does not say what was written: $(cat "$T/out")"
[ "$(sessions "$IMG")" -eq 1 ] || fail "discfs commit did not write a session"
ok "discfs commit shows its phases and progress as lines and names the session"

[ "$(json state)" = appendable ] && [ "$(json sessions)" = 1 ] && [ "$(json last_session)" = 1 ] &&
    [ "$(json last_commit_result)" = 0 ] && [ "$(json commits)" = 1 ] || fail "status after the commit: $(cat "$T/status.json")"
[ "$(json added)" = 0 ] && [ "$(json staged_bytes)" = 0 ] || fail "status: changes left after the commit"

# ---- nothing to commit
"$DISCFS" commit "$MNT" >"$T/out" 2>"$T/err" || fail "discfs commit with nothing to do failed"
[ "$(cat "$T/out")" = "discfs: nothing to commit in '$MNT'" ] || fail "nothing to commit: $(cat "$T/out")"
[ "$(sessions "$IMG")" -eq 1 ] || fail "a commit of nothing wrote a session"

# ---- status counts names added, changed, removed
rm "$MNT/d/one"
chmod 600 "$MNT/d/two"
echo changed >"$MNT/three"
echo new >"$MNT/d/new"
mkdir "$MNT/e"
[ "$(json added)/$(json changed)/$(json removed)" = 2/2/1 ] ||
    fail "status: added/changed/removed $(json added)/$(json changed)/$(json removed), expected 2/2/1"
json free_bytes >/dev/null # one status for both numbers (an image's free space is its filesystem's)
read -r free after next < <(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print(v["free_bytes"], v["free_after_bytes"], v["next_session_bytes"])' "$T/status.json")
[ "$after" -eq $((free - next)) ] || fail "status: free after the next session ($after) is not free ($free) less the session ($next)"
"$DISCFS" status "$MNT" >"$T/out" || fail "discfs status failed"
grep -q "^pending     2 added, 2 changed, 1 removed" "$T/out" || fail "discfs status: $(cat "$T/out")"
grep -q "^last commit .*: session 1 written and verified" "$T/out" || fail "discfs status: $(cat "$T/out")"
ok "discfs status shows the disc, the pending changes and the last commit"

# ---- a bar on a terminal
command -v script >/dev/null || skip "script (util-linux) is not installed"
dd if=/dev/urandom of="$MNT/big1" bs=1M count=256 status=none
script -qec "'$DISCFS' commit '$MNT'" /dev/null >"$T/tty" || fail "discfs commit under a terminal failed: $(cat "$T/tty")"
grep -q $'\r' "$T/tty" || fail "no bar redrawn in place on a terminal: $(od -c "$T/tty" | head)"
grep -qE "(verifying|writing) +\[#* *\]" "$T/tty" || fail "no bar on a terminal: $(cat -v "$T/tty")"
grep -q "discfs: session 2 written to '$IMG' and verified" "$T/tty" || fail "no result under a terminal: $(cat -v "$T/tty")"
ok "discfs commit draws a progress bar on a terminal"

# ---- a commit asked for by discfs commit leaves the root free (sync MOUNTPOINT
# does not: the kernel holds the root's lock during an fsync of it)
dd if=/dev/urandom of="$MNT/big2" bs=1M count=768 status=none
size0=$(stat -c %s "$IMG")
"$DISCFS" commit "$MNT" >"$T/out" 2>&1 &
cpid=$!
for _ in $(seq 400); do
    [ "$(stat -c %s "$IMG")" -gt "$size0" ] && break
    sleep 0.01
done
[ "$(stat -c %s "$IMG")" -gt "$size0" ] || fail "the commit did not start writing"
[ ! -e "$MNT/none$RANDOM" ] && ls "$MNT" >/dev/null || fail "the root failed during a commit"
st=$("$DISCFS" status "$MNT") || fail "discfs status during a commit failed"
kill -0 "$cpid" 2>/dev/null || fail "the commit ended before the root was used: make big2 larger"
grep -qE "^commit      running for [0-9:s]+: (writing|verifying|closing)" <<<"$st" || fail "status during a commit: $st"
touch "$MNT/during" & # a change: it waits for the commit
tpid=$!
wait "$cpid" || fail "discfs commit failed: $(cat "$T/out")"
wait "$tpid" || fail "a new name made during a commit failed"
ok "lookups in the root, a new name in it and status go on during discfs commit"
[ "$(json changed)/$(json added)" = 0/1 ] || fail "the name made during the commit is not pending for the next one"

# ---- a failed commit: exit 1, the cause once on stderr, status says it
mkdir -p "$T/x" && echo x >"$T/x/x"
xorriso -dev "$IMG" -map "$T/x" /x -commit >/dev/null 2>&1 || fail "xorriso could not append"
rc=0
"$DISCFS" commit "$MNT" >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] || fail "discfs commit of a changed image: exit $rc"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "more than one line on stderr: $(cat "$T/err")"
grep -q "^discfs: commit of '$MNT' failed: the image '$IMG' was changed by another program since it was mounted" "$T/err" ||
    fail "the failure does not name its cause: $(cat "$T/err")"
"$DISCFS" status "$MNT" >"$T/out"
grep -q "^last commit .*: failed: the image '$IMG' was changed" "$T/out" || fail "status after a failure: $(cat "$T/out")"
grep -q "^pending     not counted now" "$T/out" || fail "status counts against the failed commit's tree: $(cat "$T/out")"
[ -e "$MNT/during" ] || fail "the staged name is gone after a failed commit"
ok "a failed discfs commit exits 1 and names its cause once; status shows it"
fusermount3 -u "$MNT"
wait "$PID" 2>/dev/null || true
PID=

# ---- status --json of an image whose name is not UTF-8 is still JSON
IMG=$T/caf$'\xe9'.iso
mount_disc "$IMG"
"$DISCFS" status "$MNT" --json >"$T/status.json" || fail "status --json failed"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1], encoding="utf-8")); assert v["device"].endswith("caf\ufffd.iso"), v["device"]' "$T/status.json" ||
    fail "status --json of a name that is not UTF-8: $(od -c "$T/status.json" | head -5)"
fusermount3 -u "$MNT"
wait "$PID" 2>/dev/null || true
PID=
ok "status --json stays JSON for names that are not UTF-8"

# ---- an image mounted by a relative path: status names it by its absolute one
# (the daemon in the background works in /, where the relative path means nothing)
(cd "$T" && "$DISCFS" rel.iso mnt -o cache="$CACHE") || fail "mount of rel.iso by a relative path"
[ "$(json device)" = "$T/rel.iso" ] || fail "status names the image '$(json device)', not '$T/rel.iso'"
"$DISCFS" status "$MNT" | grep -q "^device *$T/rel.iso (stdio file)" || fail "status: $("$DISCFS" status "$MNT")"
"$DISCFS" umount "$MNT" >/dev/null || fail "discfs umount of rel.iso"
ok "an image mounted by a relative path: status names it by its absolute path"

# ---- only the user who mounted and root commit
[ "$(id -u)" -eq 0 ] || { echo "# not root: no other user to try"; exit 0; }
command -v setpriv >/dev/null || skip "setpriv is not installed"
IMG=$T/other.iso
mount_disc "$IMG" -o allow_other
chmod 755 "$T"
echo mine >"$MNT/f"
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if "${nobody[@]}" sync "$MNT" 2>"$T/err"; then fail "another user's sync of the mount succeeded"; fi
[ "$(sessions "$IMG")" -eq 0 ] || fail "another user's sync wrote a session"
grep -q "committed nothing: only the user who mounted it and root commit" "$LOG" || fail "the daemon did not say why"
rc=0
"${nobody[@]}" "$DISCFS" commit "$MNT" >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "^discfs: '$MNT' was mounted by another user" "$T/err" || fail "another user's discfs commit: exit $rc, $(cat "$T/err")"
[ "$(sessions "$IMG")" -eq 0 ] || fail "another user's discfs commit wrote a session"
"$DISCFS" umount "$MNT" >"$T/out" || fail "discfs umount by root failed"
! mountpoint -q "$MNT" || fail "still mounted after discfs umount"
kill -0 "$PID" 2>/dev/null && fail "discfs umount returned before the daemon ended"
wait "$PID" || fail "the daemon exited with an error"
PID=
[ "$(sessions "$IMG")" -eq 1 ] || fail "discfs umount did not write the session"
ok "another user's sync and discfs commit commit nothing; root's umount commits"
