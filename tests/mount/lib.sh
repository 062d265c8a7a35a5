# tests/mount/lib.sh - helpers for real-mount tests (sourced).
# Environment from meson: DISCFS (the binary).  Each test runs in its own
# directory $T, mounts with -f in the background, waits for readiness (never a
# fixed sleep), and fails on any daemon output it did not expect.
set -euo pipefail

: "${DISCFS:?DISCFS must name the discfs binary}"
T=$(mktemp -d "${TMPDIR:-/tmp}/discfs-test.XXXXXX")
MNT=$T/mnt
CACHE=$T/cache
LOG=$T/discfs.log
PID=
DISCFS_PREFIX=() # a command that runs discfs (vdrive.sh: the virtual drive wrapper)
mkdir -p "$MNT"

skip() { echo "SKIP: $*"; exit 77; }
fail() {
    echo "FAIL: $*" >&2
    [ -s "$LOG" ] && { echo "--- daemon log:" >&2; cat "$LOG" >&2; }
    exit 1
}
ok() { echo "ok - $*"; }

[ -c /dev/fuse ] || skip "no /dev/fuse on this machine"
for tool in xorriso fusermount3; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/install-deps --tests)"
done

cleanup() {
    # also when the daemon died: its mount is left behind ("not connected")
    fusermount3 -u -z "$MNT" 2>/dev/null || true
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT

# mount_disc IMAGE [discfs options...]
mount_disc() {
    local img=$1; shift
    : >"$LOG"
    "${DISCFS_PREFIX[@]}" "$DISCFS" "$img" "$MNT" -f -o cache="$CACHE" "$@" >>"$LOG" 2>&1 &
    PID=$!
    for _ in $(seq 200); do
        mountpoint -q "$MNT" && return 0
        kill -0 "$PID" 2>/dev/null || fail "discfs exited before mounting $img"
        sleep 0.05
    done
    fail "discfs did not mount $img within 10 s"
}

# unmount_disc: unmount and wait for the daemon (the commit happens before it exits)
unmount_disc() {
    fusermount3 -u "$MNT" || fail "fusermount3 -u failed"
    local rc=0
    wait "$PID" || rc=$?
    PID=
    [ $rc -eq 0 ] || fail "discfs exited with $rc after unmount"
    expect_quiet_log
}

# kill_daemon: SIGKILL the discfs serving $MNT (also when $PID is a wrapper such as
# scripts/vdrive), as a crash would, and drop the mount it leaves behind
kill_daemon() {
    pkill -9 -f -- "$DISCFS [^ ]* $MNT" || fail "no discfs process to kill"
    wait "$PID" 2>/dev/null || true
    PID=
    fusermount3 -u -z "$MNT" 2>/dev/null || true
}

# what the daemon in LOG (default $LOG) printed besides the line each commit
# writes ("session N written to ... and read back") and libfuse's line when the
# unmount's abort of the connection meets a worker taking a request (fs/serve.c)
daemon_said() {
    grep -v -E -e "^discfs: session [0-9]+ written to .* and read back \([0-9]+ blocks\)$" \
        -e "^fuse: reading device: Software caused connection abort$" "${1:-$LOG}" || true
}

# the daemon printed nothing but its commits (errors would show up here)
expect_quiet_log() {
    if [ -n "$(daemon_said)" ]; then fail "unexpected daemon output"; fi
}

# sessions IMAGE: the number of ISO sessions xorriso finds
sessions() {
    xorriso -indev "$1" -toc 2>/dev/null | grep -c '^ISO session' || true
}

# tree_listing DIR: one line per entry: path, type+mode, uid, gid, size of files,
# whole-second mtime (not for symlinks and directories: see below), symlink target
tree_listing() {
    (cd "$1" && find . -mindepth 1 -printf '%P|%y%m|%U|%G|' \
        -a \( -type f -printf '%s|%TY%Tm%Td%TH%TM%.2TS|' -o -type l -printf '|%TY%Tm%Td%TH%TM%.2TS|%l' -o -printf '|' \) \
        -printf '\n' | LC_ALL=C sort)
}

# extract_newest IMAGE DIR: the newest session, extracted by osirrox
extract_newest() {
    rm -rf "$2"
    osirrox -indev "$1" -extract / "$2" >/dev/null 2>&1 || fail "osirrox could not extract $1"
}

# lba_of IMAGE PATH: the first block of a file's data, as xorriso reports it
lba_of() {
    xorriso -indev "$1" -find "$2" -exec report_lba -- 2>/dev/null |
        awk '/^File data lba:/ {print $6; exit}'
}
