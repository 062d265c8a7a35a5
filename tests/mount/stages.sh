#!/usr/bin/env bash
# discfs stages: the stages in a cache with their disk use, pending records and
# state; a stage whose disc was committed elsewhere (or whose image is gone) is
# unclaimable and --remove-unclaimable removes it and only it; a mounted stage is
# never removed; nothing is removed without --yes when there is no terminal to ask.
. "$(dirname "$0")/lib.sh"

A=$T/a.iso
B=$T/b.iso
D=$T/d.iso
mkdir -p "$T/src"
echo one >"$T/src/one"
xorriso -outdev "$A" -map "$T/src" / -commit >/dev/null 2>&1 || fail "xorriso could not make $A"
cp "$A" "$B"
cp "$A" "$D"
cp "$A" "$T/f.iso"

stages() { "$DISCFS" stages --cache "$CACHE" "$@"; }
# row KEY: the line of the listing for the stage KEY
row() { stages | awk -v k="${1:0:12}" '$1 == k'; }
# expect_state KEY STATE
expect_state() {
    local r
    r=$(row "$1")
    [[ $r == *"  $2  "* ]] || fail "stage ${1:0:12} is not '$2': '$r'; listing: $(stages)"
}
# usage_error ARGS...: exit status 2 and one line on stderr, nothing on stdout
usage_error() {
    local rc=0
    "$DISCFS" stages "$@" >"$T/out" 2>"$T/err" || rc=$?
    [ $rc -eq 2 ] || fail "discfs stages $* exited with $rc, not 2"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "discfs stages $* said: $(cat "$T/err")"
    [ ! -s "$T/out" ] || fail "discfs stages $* printed: $(cat "$T/out")"
}
# new_stage: the one stage directory in $CACHE that is not in $1 (a list of keys)
new_stage() { comm -13 <(echo "$1") <(ls "$CACHE") | head -1; }

usage_error --bogus
grep -q "unknown option '--bogus'" "$T/err" || fail "discfs stages --bogus said: $(cat "$T/err")"
usage_error --cache
usage_error --remove
usage_error --yes
usage_error extra
usage_error --remove abc --remove-unclaimable
"$DISCFS" stages --help | grep -q "remove-unclaimable" || fail "discfs stages --help says nothing of --remove-unclaimable"
"$DISCFS" --help | grep -q "discfs stages" || fail "discfs --help does not name discfs stages"
stages | grep -q "no stages in" || fail "an empty cache lists something: $(stages)"
ok "usage errors, --help, an empty cache"

# a stage with pending changes, left by a crash: its disc claims it
mount_disc "$A"
echo staged >"$MNT/staged"
kill_daemon
KA=$(ls "$CACHE")
[ -f "$CACHE/$KA/origin" ] || fail "the mount noted no origin in its stage $KA"
expect_state "$KA" "waiting for its disc"
row "$KA" | grep -q "$A" || fail "the row of $KA does not name $A: $(row "$KA")"
row "$KA" | grep -Eq "  [0-9]+ records?  " || fail "the row of $KA shows no pending records"
mount_disc "$B"
echo staged >"$MNT/staged-b"
kill_daemon
KB=$(new_stage "$KA")
expect_state "$KB" "waiting for its disc"
ok "a stage with pending changes is waiting for its disc"

# a.iso gets a new session from another cache: the stage of its old session is
# no use to any disc now
OWN=$CACHE
CACHE=$T/elsewhere
mount_disc "$A"
echo elsewhere >"$MNT/elsewhere"
unmount_disc
CACHE=$OWN
[ "$(sessions "$A")" -eq 2 ] || fail "the commit elsewhere did not write session 2"
expect_state "$KA" "unclaimable"
expect_state "$KB" "waiting for its disc"
stages | grep -q "1 unclaimable" || fail "the summary does not count the unclaimable stage: $(stages)"
ok "a stage of a disc committed elsewhere is unclaimable"

# a mounted stage: listed as such, never removed
mount_disc "$D"
echo live >"$MNT/live"
KD=$(new_stage "$(printf '%s\n' "$KA" "$KB" | sort)")
expect_state "$KD" "mounted now"
rc=0
stages --remove "${KD:0:8}" --yes >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] || fail "--remove of a mounted stage exited with $rc, not 1"
grep -q "mounted now" "$T/err" || fail "--remove of a mounted stage said: $(cat "$T/err")"
[ -d "$CACHE/$KD" ] || fail "--remove removed the mounted stage"
ok "a mounted stage is mounted now and --remove refuses it"

# a stage without origin (made by an older discfs): unknown, never removed unasked
OLD=0123456789abcdef0123456789abcdef
mkdir -p "$CACHE/$OLD/data"
expect_state "$OLD" "unknown"

# without a terminal to ask and without --yes nothing is removed
rc=0
stages --remove-unclaimable </dev/null >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 2 ] || fail "--remove-unclaimable without --yes and terminal exited with $rc, not 2"
grep -q -- "--yes" "$T/err" || fail "--remove-unclaimable without --yes said: $(cat "$T/err")"
[ -d "$CACHE/$KA" ] || fail "--remove-unclaimable without --yes removed $KA"

stages --remove-unclaimable --yes >"$T/out" 2>"$T/err" || fail "--remove-unclaimable failed: $(cat "$T/err")"
grep -q "removed stage ${KA:0:12} of $A (.* freed)" "$T/out" || fail "--remove-unclaimable did not name $KA: $(cat "$T/out")"
grep -q "freed" "$T/out" || fail "--remove-unclaimable did not say the space freed"
[ ! -e "$CACHE/$KA" ] || fail "--remove-unclaimable left $KA"
for k in "$KB" "$KD" "$OLD"; do
    [ -d "$CACHE/$k" ] || fail "--remove-unclaimable removed $k, which is not unclaimable"
done
[ "$(ls -A "$CACHE" | wc -l)" -eq 3 ] || fail "the cache holds other than 3 stages: $(ls -A "$CACHE")"
ok "--remove-unclaimable removes the unclaimable stage and only it"

# the disk use of a stage counts blocks, not sizes: a sparse file takes none
truncate -s 200M "$MNT/sparse"
head -c 3M /dev/urandom >"$MNT/real"
use=$(row "$KD" | awk '{print $2, $3}')
case $use in
[3-4].[0-9]" MiB") ;;
*) fail "the stage with 3 MiB of data and a sparse 200 MiB file uses '$use'" ;;
esac
rm "$MNT/sparse" "$MNT/real"
ok "disk use counts real blocks ($use)"

# after a commit the mount moves on to a new stage, which says where it comes from
unmount_disc
[ ! -e "$CACHE/$KD" ] || fail "the commit left its old stage"
KN=$(new_stage "$(printf '%s\n' "$KB" "$OLD" | sort)")
[ -n "$KN" ] || fail "no new stage after the commit of $D"
expect_state "$KN" "waiting for its disc"
row "$KN" | grep -q "  empty  " || fail "the new stage after a commit is not empty: $(row "$KN")"
grep -q "^session 2$" "$CACHE/$KN/origin" || fail "the new stage's origin: $(cat "$CACHE/$KN/origin")"
ok "the stage after a commit says where it comes from"

# an image replaced by another file, or gone: its stage is unclaimable; --remove
# takes a unique prefix
cp "$B" "$T/b.saved"
head -c 1M /dev/zero | tr '\0' x >"$B"
expect_state "$KB" "unclaimable"
mv "$T/b.saved" "$B"
expect_state "$KB" "waiting for its disc"
rm "$B"
expect_state "$KB" "unclaimable"
row "$KB" | grep -Eq "  [0-9]+ records?  " || fail "the stage of b.iso lost its records: $(row "$KB")"
usage_error --remove "${KB:0:4}" --bogus
stages --remove "${KB:0:6}" --yes >"$T/out" 2>"$T/err" || fail "--remove ${KB:0:6} failed: $(cat "$T/err")"
grep -q "removed stage ${KB:0:12}" "$T/out" || fail "--remove did not say what it removed: $(cat "$T/out")"
[ ! -e "$CACHE/$KB" ] || fail "--remove left $KB"
rc=0
stages --remove zzzz --yes >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "no stage 'zzzz'" "$T/err" || fail "--remove of no stage: $rc, $(cat "$T/err")"
stages --remove "$OLD" --yes >/dev/null || fail "--remove of a stage without origin failed"
ok "an image replaced or gone leaves its stage unclaimable; --remove KEY"

# a commit cut short after its session was written: the old stage holds the
# commit's intent and the next mount settles it, so it is not unclaimable
before=$(ls "$CACHE")
DISCFS_PREFIX=(env DISCFS_TEST_CRASH=after-write)
mount_disc "$T/f.iso"
DISCFS_PREFIX=()
echo cut >"$MNT/cut"
if sync "$MNT" 2>/dev/null; then fail "the daemon did not die in the commit"; fi
wait "$PID" 2>/dev/null && fail "the daemon was not killed"
PID=
fusermount3 -u -z "$MNT" 2>/dev/null || true
[ "$(sessions "$T/f.iso")" -eq 2 ] || fail "the commit cut short did not write its session"
KF=$(new_stage "$before")
expect_state "$KF" "waiting for its disc"
stages | grep -q "^${KF:0:12}: a commit of it was cut short" || fail "the listing does not say why: $(stages)"
ok "the stage of a commit cut short waits for its disc"
