# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the vdrive faithfulness tests; sourced by t-*.sh.
# meson passes VDRIVE_LIB, VDRIVE_CTL, VDRIVE_WRAPPER and VD_PROBE.
set -eu

: "${VDRIVE_LIB:?set by meson}"
: "${VDRIVE_CTL:?set by meson}"
: "${VDRIVE_WRAPPER:?set by meson}"

need() {
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "SKIP: '$tool' is not installed"
            exit 77
        fi
    done
}

fail() {
    echo "FAIL: $*" >&2
    if [ -f "$D/cdb.log" ]; then
        echo "--- last CDBs:" >&2
        tail -n 25 "$D/cdb.log" >&2
    fi
    exit 1
}

T=$(mktemp -d "${TMPDIR:-/tmp}/vdrive-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
D=$T/drive
NODE=$D/node

# vd [WRAPPER OPTIONS] -- COMMAND: run COMMAND with the virtual drive
vd() {
    "$VDRIVE_WRAPPER" --lib "$VDRIVE_LIB" --ctl "$VDRIVE_CTL" --dir "$D" "$@"
}

ctl() {
    "$VDRIVE_CTL" -C "$D" "$@"
}

# xo OUTFILE XORRISO-ARGS...: xorriso on the virtual drive, output to OUTFILE
xo() {
    out=$1
    shift
    vd -- xorriso -dev "mmc:$NODE" "$@" >"$out" 2>&1
}

# the session start addresses in xorriso -toc output, space separated
toc_starts() {
    sed -n 's/^ISO session *: *[0-9]* *, *\([0-9]*\) *,.*/\1/p' "$1" |
        tr '\n' ' ' | sed 's/ $//'
}

# the value of KEY in 'vdrive-ctl status'
status_of() {
    ctl status | sed -n "s/^$1 //p"
}

# count WRITE(10) CDBs in the log (optionally only after line N)
writes_in_log() {
    from=${1:-0}
    if [ ! -f "$D/cdb.log" ]; then
        echo 0
        return
    fi
    tail -n "+$((from + 1))" "$D/cdb.log" | grep -c '^[0-9]* 2a ' || true
}

log_lines() {
    if [ -f "$D/cdb.log" ]; then wc -l <"$D/cdb.log"; else echo 0; fi
}

mkfile() { # mkfile PATH KIB
    head -c "$(($2 * 1024))" /dev/urandom >"$1"
}

# wait_lines FILE N: wait (up to 20 s) until FILE has N lines
wait_lines() {
    i=0
    while [ ! -f "$1" ] || [ "$(wc -l <"$1")" -lt "$2" ]; do
        i=$((i + 1))
        [ $i -lt 400 ] || fail "timeout waiting for line $2 of $1: $(cat "$1")"
        sleep 0.05
    done
}
