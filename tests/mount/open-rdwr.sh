#!/usr/bin/env bash
# An open for writing that writes nothing changes nothing (issue 8, defect 8): no
# copy-up, nothing pending after a remount, no session; the first write copies up.
. "$(dirname "$0")/lib.sh"

IMG=$T/disc.iso
mount_disc "$IMG"
head -c 3000000 /dev/urandom >"$MNT/big"
unmount_disc
[ "$(sessions "$IMG")" -eq 1 ] || fail "the first session was not written"

mount_disc "$IMG"
python3 - "$MNT/big" <<'PY'
import os, sys
for flags in (os.O_RDWR, os.O_WRONLY, os.O_RDWR | os.O_APPEND):
    fd = os.open(sys.argv[1], flags)
    os.close(fd)
PY
[ -z "$(ls -A "$CACHE"/*/data 2>/dev/null)" ] || fail "an open for writing copied the file into the stage"
sync "$MNT"
[ "$(sessions "$IMG")" -eq 1 ] || fail "an open for writing without a write wrote a session"
unmount_disc
[ "$(sessions "$IMG")" -eq 1 ] || fail "an open for writing without a write was committed at unmount"
mount_disc "$IMG"
expect_quiet_log
ok "open(O_RDWR) and open(O_WRONLY) without a write stage nothing"

printf 'X' | dd of="$MNT/big" bs=1 seek=100 conv=notrunc status=none
[ "$(ls -A "$CACHE"/*/data | wc -l)" -eq 1 ] || fail "the first write did not copy the file up"
[ "$(head -c 101 "$MNT/big" | tail -c 1)" = X ] || fail "the write is not in the file"
unmount_disc
[ "$(sessions "$IMG")" -eq 2 ] || fail "a written file was not committed"
ok "the first write copies the file up and is committed"

# open(O_TRUNC) of an empty on-disc file cuts nothing but sets its mtime, as on
# Linux; the time survives a remount and a commit
mount_disc "$IMG"
: >"$MNT/empty"
touch -d '2020-01-01 00:00:00' "$MNT/empty"
unmount_disc
mount_disc "$IMG"
before=$(stat -c %Y "$MNT/empty")
python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC))' "$MNT/empty"
after=$(stat -c %Y "$MNT/empty")
[ "$after" -gt "$before" ] || fail "open(O_TRUNC) of an empty file left its mtime ($before, $after)"
unmount_disc
mount_disc "$IMG" -o cache="$T/fresh"
[ "$(stat -c %Y "$MNT/empty")" = "$after" ] || fail "the mtime O_TRUNC set is not in the session"
unmount_disc
ok "open(O_TRUNC) of an empty file sets its mtime, and the session has it"
