#!/usr/bin/env bash
# vdrive-space-learn.sh: on DVD-R the close gap of a later session is learned from
# the disc's own session history, not taken from the table.  A virtual DVD-R whose
# later gap (3000 blocks) differs from the table's (6144) gets three sessions from
# xorriso; discfs then writes a fourth, and the disc's free space afterwards is
# within 1 MiB of df's promise (with the table it would be 6 MiB off).  A DVD-R
# whose only known gap is the first one (32768 blocks) is taken at its word too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
if [ "${1:-later}" = later ]; then
    CAP=60000

    vd --media dvd-r --capacity $CAP --create-opt --gap-next --create-opt 3000
    for i in 1 2 3; do
        echo "$i" >"$T/s$i"
        xo "$T/w" -map "$T/s$i" "/s$i" -commit || fail "xorriso session $i: $(cat "$T/w")"
    done
    [ "$(toc_starts | wc -w)" = 3 ] || fail "xorriso did not write 3 sessions"

    mount_disc "mmc:$NODE"
    head -c 1000000 /dev/urandom >"$MNT/f"
    promise=$(python3 -c 'import os, sys; s = os.statvfs(sys.argv[1]); print(s.f_bavail * s.f_frsize)' "$MNT")
    sync "$MNT" || fail "the commit failed"
    reality=$(((CAP - $(status_of nwa)) * 2048))
    echo "# dvd-r session 4 (learned gap): df promised $promise bytes, the disc has $reality"
    [ $((reality - promise)) -le 1048576 ] && [ $((promise - reality)) -le 1048576 ] ||
        fail "df promised $promise bytes, the disc has $reality: the gap was not learned"
    unmount_disc
    ok "dvd-r: the close gap of a later session is learned from the disc (promise $promise, reality $reality)"
else
    # only the gap after the first session is known: it stands for the later ones
    CAP=200000
    vd --media dvd-r --capacity $CAP --create-opt --gap-first --create-opt 32768 \
        --create-opt --gap-next --create-opt 32768
    for i in 1 2; do
        echo "$i" >"$T/s$i"
        xo "$T/w" -map "$T/s$i" "/s$i" -commit || fail "xorriso session $i: $(cat "$T/w")"
    done
    mount_disc "mmc:$NODE"
    head -c 1000000 /dev/urandom >"$MNT/f"
    promise=$(python3 -c 'import os, sys; s = os.statvfs(sys.argv[1]); print(s.f_bavail * s.f_frsize)' "$MNT")
    sync "$MNT" || fail "the commit failed"
    reality=$(((CAP - $(status_of nwa)) * 2048))
    echo "# dvd-r session 3 (gap of session 1): df promised $promise bytes, the disc has $reality"
    [ $((reality - promise)) -le 1048576 ] && [ $((promise - reality)) -le 1048576 ] ||
        fail "df promised $promise bytes, the disc has $reality: the first gap was not used"
    unmount_disc
    ok "dvd-r: with only the first gap known, df uses it (promise $promise, reality $reality)"
fi
