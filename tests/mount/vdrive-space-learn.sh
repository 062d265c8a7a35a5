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

# xorriso_sessions N: N sessions written by xorriso, one small file each
xorriso_sessions() {
    for i in $(seq "$1"); do
        echo "$i" >"$T/s$i"
        xo "$T/w" -map "$T/s$i" "/s$i" -commit || fail "xorriso session $i: $(cat "$T/w")"
    done
}

# promise_kept WHAT WHY: a session of 1 MB through the mount leaves the disc within
# 1 MiB of what df promised before it (WHAT names it, WHY is the failure's cause)
promise_kept() {
    local promise reality
    mount_disc "mmc:$NODE"
    head -c 1000000 /dev/urandom >"$MNT/f"
    promise=$(df_avail)
    sync "$MNT" || fail "the commit failed"
    reality=$(disc_free "$CAP")
    echo "# dvd-r $1: df promised $promise bytes, the disc has $reality"
    [ $((reality - promise)) -le 1048576 ] && [ $((promise - reality)) -le 1048576 ] ||
        fail "df promised $promise bytes, the disc has $reality: $2"
    unmount_disc
    PROMISE=$promise REALITY=$reality
}

if [ "${1:-later}" = later ]; then
    CAP=60000
    vd --media dvd-r --capacity $CAP --create-opt --gap-next --create-opt 3000
    xorriso_sessions 3
    [ "$(toc_starts | wc -w)" = 3 ] || fail "xorriso did not write 3 sessions"
    promise_kept "session 4 (learned gap)" "the gap was not learned"
    ok "dvd-r: the close gap of a later session is learned from the disc (promise $PROMISE, reality $REALITY)"
else
    # only the gap after the first session is known: it stands for the later ones
    CAP=200000
    vd --media dvd-r --capacity $CAP --create-opt --gap-first --create-opt 32768 \
        --create-opt --gap-next --create-opt 32768
    xorriso_sessions 2
    promise_kept "session 3 (gap of session 1)" "the first gap was not used"
    ok "dvd-r: with only the first gap known, df uses it (promise $PROMISE, reality $REALITY)"
fi
