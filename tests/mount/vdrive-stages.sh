#!/usr/bin/env bash
# discfs stages on a drive (a virtual CD-R): the stage of the disc in the drive is
# waiting for it; with another disc, or none, in the drive it still is (the disc
# may come back) and --remove-unclaimable keeps it; once the disc got a newer
# session elsewhere (xorriso) it is unclaimable.  Looking at the drive writes
# nothing to it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"

stages() { vd -- "$DISCFS" stages --cache "$CACHE" "$@"; }
# expect_state KEY STATE
expect_state() {
    local r
    r=$(stages | awk -v k="${1:0:12}" '$1 == k')
    [[ $r == *"  $2  "* ]] || fail "stage ${1:0:12} is not '$2': '$r'; listing: $(stages)"
}

vd
ctl create a cdr --disc-id 0x11111111 >/dev/null
ctl create b cdr --disc-id 0x22222222 --atip 97:15:17 >/dev/null
ctl load a
echo one >"$T/one"
xo "$T/w" -map "$T/one" /one -commit || fail "xorriso could not write disc a: $(cat "$T/w")"

mount_disc "mmc:$NODE"
echo staged >"$MNT/staged"
kill_daemon
KA=$(ls "$CACHE")
grep -q "^path mmc:$NODE$" "$CACHE/$KA/origin" || fail "the origin names another drive: $(cat "$CACHE/$KA/origin")"
grep -q "^kind drive$" "$CACHE/$KA/origin" || fail "the origin is not a drive's: $(cat "$CACHE/$KA/origin")"
before=$(log_lines)
expect_state "$KA" "waiting for its disc"
[ "$(writes_after "$before")" -eq 0 ] || fail "discfs stages wrote to the drive"
[ "$(log_lines)" -gt "$before" ] || fail "discfs stages did not look at the drive"
ok "the stage of the disc in the drive is waiting for its disc"

ctl swap b >/dev/null
expect_state "$KA" "waiting for its disc"
stages | grep -q "the disc in 'mmc:$NODE' now is another one" || fail "the listing does not say another disc is in the drive: $(stages)"
ctl eject >/dev/null
expect_state "$KA" "waiting for its disc"
stages --remove-unclaimable --yes >"$T/out" || fail "--remove-unclaimable failed"
grep -q "no unclaimable stage" "$T/out" || fail "--remove-unclaimable said: $(cat "$T/out")"
[ -d "$CACHE/$KA" ] || fail "--remove-unclaimable removed the stage of a disc that is out of the drive"
ok "with another disc or none in the drive the stage waits for its disc"

ctl load a >/dev/null
echo two >"$T/two"
xo "$T/w" -map "$T/two" /two -commit || fail "xorriso could not write session 2: $(cat "$T/w")"
expect_state "$KA" "unclaimable"
stages --remove-unclaimable --yes >"$T/out" || fail "--remove-unclaimable failed"
grep -q "removed stage ${KA:0:12}" "$T/out" || fail "--remove-unclaimable said: $(cat "$T/out")"
[ ! -e "$CACHE/$KA" ] || fail "--remove-unclaimable left $KA"
ok "a disc committed elsewhere leaves its stage unclaimable"
