# tests/mount/vdrive.sh - helpers for mount tests on the virtual drive (sourced
# after lib.sh).  Environment from meson: VDRIVE_WRAPPER, VDRIVE_LIB, VDRIVE_CTL
# (tests/vdrive/README.md).  The drive directory is $D, its node $NODE, the
# discfs address mmc:$NODE.
: "${VDRIVE_WRAPPER:?set by meson}"
: "${VDRIVE_LIB:?set by meson}"
: "${VDRIVE_CTL:?set by meson}"

# use_drive DIR: the drive directory is DIR from now on (vd sets it up)
use_drive() {
    D=$1
    NODE=$D/node
}
use_drive "$T/drive"

# vd [WRAPPER OPTIONS] [-- COMMAND...]: set up the drive, run COMMAND under the shim
vd() { "$VDRIVE_WRAPPER" --lib "$VDRIVE_LIB" --ctl "$VDRIVE_CTL" --dir "$D" "$@"; }
ctl() { "$VDRIVE_CTL" -C "$D" "$@"; }
DISCFS_PREFIX=(vd --)

# status_of KEY: a value of 'vdrive-ctl status'
status_of() { ctl status | sed -n "s/^$1 //p"; }

# df_avail: the bytes df promises free on the mount after the next commit (f_bavail)
df_avail() { python3 -c 'import os, sys; s = os.statvfs(sys.argv[1]); print(s.f_bavail * s.f_frsize)' "$MNT"; }

# disc_free CAPACITY: the bytes after the NWA, as the drive reports them (none once
# the disc is finalized)
disc_free() {
    local nwa
    nwa=$(status_of nwa)
    [ "$(status_of finalized)" = 0 ] || nwa=$1
    echo $((($1 - nwa) * 2048))
}

# xo OUT XORRISO-ARGS...: xorriso on the virtual drive (while discfs is not mounted)
xo() {
    local out=$1
    shift
    vd -- xorriso -dev "mmc:$NODE" "$@" >"$out" 2>&1
}

# toc_starts: the start blocks of the ISO sessions on the medium, space separated
toc_starts() {
    xo "$T/toc" -toc || fail "xorriso -toc failed: $(cat "$T/toc")"
    sed -n 's/^ISO session *: *[0-9]* *, *\([0-9]*\) *,.*/\1/p' "$T/toc" | tr '\n' ' ' |
        sed 's/ $//'
}

# writes_after N: WRITE(10/12) commands in the CDB log after its line N
writes_after() {
    [ -f "$D/cdb.log" ] || { echo 0; return; }
    tail -n "+$(($1 + 1))" "$D/cdb.log" | grep -c '^[0-9]* \(2a\|aa\) ' || true
}
log_lines() { if [ -f "$D/cdb.log" ]; then wc -l <"$D/cdb.log"; else echo 0; fi; }

# disc_with_a MEDIA: a virtual MEDIA in the drive with session 1 written by xorriso:
# the file /a, "a"
disc_with_a() {
    vd --media "$1"
    echo a >"$T/a"
    xo "$T/w" -map "$T/a" /a -commit || fail "xorriso could not write session 1: $(cat "$T/w")"
}

# stage_src BYTES: BYTES of random data in $T/src, copied into the mount as /f (staged)
stage_src() {
    head -c "$1" /dev/urandom >"$T/src"
    cp "$T/src" "$MNT/f"
}

# expect_sync_eio WHAT: the commit (sync MOUNTPOINT) fails with EIO; WHAT is the
# failure if it succeeds
expect_sync_eio() {
    if sync "$MNT" 2>"$T/err"; then fail "$1"; fi
    grep -q "Input/output error" "$T/err" || fail "sync failed, but not with EIO: $(cat "$T/err")"
}

# expect_stage_found WHAT: the mount found the stage of an earlier mount (after a
# crash or a failed commit); WHAT is the failure if it did not
expect_stage_found() {
    grep -q "pending changes of an earlier mount were found" "$LOG" || fail "$1"
}

# unmount_disc_noisy [--with-log] [WHAT]: unmount and wait for the daemon as
# unmount_disc does, but the daemon may have logged (messages the test expects).
# WHAT (default: discfs exited with an error) is the failure if the daemon exits
# with an error, followed with --with-log by the daemon log.
unmount_disc_noisy() {
    local with_log=
    if [ "${1:-}" = --with-log ]; then
        with_log=1
        shift
    fi
    local what=${1:-discfs exited with an error}
    fusermount3 -u "$MNT" || fail "fusermount3 -u failed"
    if ! wait "$PID"; then
        if [ -n "$with_log" ]; then what="$what: $(cat "$LOG")"; fi
        fail "$what"
    fi
    PID=
}
