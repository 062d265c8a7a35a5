#!/usr/bin/env bash
# vdrive-commands.sh: the commands on a virtual CD-R: discfs umount (commit with
# its phases, then the unmount), discfs inspect of a stage a killed daemon left,
# discfs discard, discfs verify of the result.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"

vd --media cdr
mount_disc "mmc:$NODE"
echo one >"$MNT/one"
"$DISCFS" umount "$MNT" >"$T/out" 2>&1 || fail "discfs umount failed: $(cat "$T/out")"
grep -q "^writing" "$T/out" && grep -q "^verifying" "$T/out" &&
    grep -q "^discfs: session 1 written to 'mmc:$NODE' and verified" "$T/out" || fail "discfs umount: $(cat "$T/out")"
! mountpoint -q "$MNT" || fail "still mounted after discfs umount"
wait "$PID" || fail "the daemon exited with an error"
PID=
[ "$(xo "$T/toc" -toc && grep -c '^ISO session' "$T/toc")" -eq 1 ] || fail "no session on the disc"
ok "discfs umount commits to the CD-R with its phases, then unmounts"

# a daemon killed with changes staged: inspect shows them without mounting
mount_disc "mmc:$NODE"
echo two >"$MNT/two"
rm "$MNT/one"
kill_daemon
before=$(log_lines)
vd -- "$DISCFS" inspect "mmc:$NODE" --cache "$CACHE" >"$T/out" 2>"$T/err" || fail "inspect failed: $(cat "$T/err")"
printf '%s\n' '- /one' '+ /two' >"$T/want"
grep '^[-~+] ' "$T/out" >"$T/got" || true
diff "$T/want" "$T/got" || fail "inspect of the CD-R: $(cat "$T/out")"
[ "$(writes_after "$before")" -eq 0 ] || fail "discfs inspect wrote to the drive"
[ "$(log_lines)" -gt "$before" ] || fail "discfs inspect did not look at the drive"
ok "inspect shows what a killed daemon left staged for the CD-R"

# discard: the stage goes, no session
mount_disc "mmc:$NODE"
grep -q "pending changes of an earlier mount" "$LOG" || fail "the remount did not find the stage"
"$DISCFS" discard "$MNT" --yes >"$T/out" 2>&1 || fail "discard failed: $(cat "$T/out")"
wait "$PID" || fail "the daemon exited with an error after discard"
PID=
vd -- "$DISCFS" inspect "mmc:$NODE" --cache "$CACHE" >"$T/out" 2>&1 || fail "inspect after discard failed: $(cat "$T/out")"
tail -1 "$T/out" | grep -qx "no changes staged" || fail "changes left after discard: $(cat "$T/out")"
vd -- "$DISCFS" verify "mmc:$NODE" >"$T/out" 2>&1 || fail "verify failed: $(cat "$T/out")"
tail -1 "$T/out" | grep -q "1 session and 1 files .* match their MD5s" || fail "verify: $(cat "$T/out")"
ok "discard drops the stage of the CD-R, which keeps its one session, verified"
