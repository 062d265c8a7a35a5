# tests/mount/vdrive.sh - helpers for mount tests on the virtual drive (sourced
# after lib.sh).  Environment from meson: VDRIVE_WRAPPER, VDRIVE_LIB, VDRIVE_CTL
# (tests/vdrive/README.md).  The drive directory is $D, its node $NODE, the
# discfs address mmc:$NODE.
: "${VDRIVE_WRAPPER:?set by meson}"
: "${VDRIVE_LIB:?set by meson}"
: "${VDRIVE_CTL:?set by meson}"

D=$T/drive
NODE=$D/node

# vd [WRAPPER OPTIONS] [-- COMMAND...]: set up the drive, run COMMAND under the shim
vd() { "$VDRIVE_WRAPPER" --lib "$VDRIVE_LIB" --ctl "$VDRIVE_CTL" --dir "$D" "$@"; }
ctl() { "$VDRIVE_CTL" -C "$D" "$@"; }
DISCFS_PREFIX=(vd --)

# status_of KEY: a value of 'vdrive-ctl status'
status_of() { ctl status | sed -n "s/^$1 //p"; }

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
