#!/usr/bin/env bash
# vdrive-states.sh: media states on the virtual drive (DESIGN.md, Media states).
# A closed (finalized) CD-R, DVD-R, DVD+R and BD-R mounts read-only, says why in
# the log, reads its files, and writes fail with EROFS.  A CD-R with a data track
# that is not ISO 9660 and an empty drive are refused with a clear message,
# nothing mounted, nothing written.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

echo closed >"$T/f"
for media in cdr dvd-r dvd+r bd-r; do
    use_drive "$T/drive-$media"
    vd --media "$media"
    xo "$T/w" -close on -map "$T/f" /f -commit || fail "xorriso -close on: $(cat "$T/w")"
    mount_disc "mmc:$NODE"
    grep -q "is closed (finalized or full): no session can be appended, so it is mounted read-only" \
        "$LOG" || fail "$media: the log does not say why the mount is read-only"
    [ "$(cat "$MNT/f")" = closed ] || fail "$media: cannot read the closed disc"
    lines=$(log_lines)
    python3 - "$MNT" <<'PY' || fail "$media: a write to a closed disc did not fail with EROFS"
import errno, os, sys
m = sys.argv[1]
for what, f in [("create", lambda: open(m + "/new", "w")),
                ("write", lambda: open(m + "/f", "a")),
                ("mkdir", lambda: os.mkdir(m + "/d")),
                ("unlink", lambda: os.unlink(m + "/f"))]:
    try:
        f()
    except OSError as e:
        if e.errno != errno.EROFS:
            sys.exit(f"{what}: errno {e.errno}")
        continue
    sys.exit(f"{what}: succeeded")
PY
    sync "$MNT" || fail "$media: sync of an unchanged closed disc failed"
    unmount_disc_noisy --with-log "$media: discfs failed on a closed disc"
    [ "$(writes_after "$lines")" -eq 0 ] || fail "$media: WRITE commands to a closed disc"
    ok "$media: a closed disc mounts read-only, reads, and refuses writes with EROFS"
done

# a data track that is not ISO 9660
use_drive "$T/drive-raw"
if command -v cdrskin >/dev/null; then
    head -c 1000000 /dev/urandom >"$T/raw"
    vd --media cdr -- cdrskin "dev=$NODE" -tao -multi "$T/raw" >"$T/w" 2>&1 ||
        fail "cdrskin could not write a raw track: $(cat "$T/w")"
    lines=$(log_lines)
    if vd -- "$DISCFS" "mmc:$NODE" "$MNT" -f -o cache="$CACHE" >"$LOG" 2>&1; then
        fail "discfs mounted a CD-R without ISO 9660"
    fi
    ! mountpoint -q "$MNT" || fail "mounted anyway"
    grep -q "has no ISO 9660 session" "$LOG" || fail "no clear message for a non-ISO disc: $(cat "$LOG")"
    [ "$(writes_after "$lines")" -eq 0 ] || fail "WRITE commands to a non-ISO disc"
    ok "a disc without ISO 9660 is refused: $(tail -1 "$LOG")"
else
    echo "# cdrskin is not installed: the non-ISO disc case is not checked"
fi

# an empty drive
ctl eject
if vd -- "$DISCFS" "mmc:$NODE" "$MNT" -f -o cache="$CACHE" >"$LOG" 2>&1; then
    fail "discfs mounted an empty drive"
fi
grep -q "no disc in" "$LOG" || fail "no clear message for an empty drive: $(cat "$LOG")"
ok "an empty drive is refused: $(tail -1 "$LOG")"
