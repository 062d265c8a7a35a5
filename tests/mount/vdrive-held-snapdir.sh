#!/usr/bin/env bash
# vdrive-held-snapdir.sh: `discfs sessions` of a drive a mount holds names where that
# mount shows the sessions: MNT/.sessions, MNT/NAME with -o snapdir=NAME, and says
# it shows none with -o snapdir=none (it never names a directory that is not there).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"
vd --media cdr
DEV=mmc:$NODE

# held SNAPDIR-OPTION WANT: a mount with the option; the message matches WANT
held() {
    if [ -n "$1" ]; then mount_disc "$DEV" -o "$1"; else mount_disc "$DEV"; fi
    local out rc=0
    out=$("${DISCFS_PREFIX[@]}" "$DISCFS" sessions "$DEV" 2>&1) || rc=$?
    [ $rc = 1 ] && grep -q -- "$2" <<<"$out" ||
        fail "discfs sessions of a drive held with '${1:-no snapdir}': exit $rc, '$out'"
    unmount_disc
}
mount_disc "$DEV"
echo a >"$MNT/f"
unmount_disc
held "" "held by the discfs mount at '$MNT': its sessions are in $MNT/\.sessions while"
held "snapdir=snaps" "held by the discfs mount at '$MNT': its sessions are in $MNT/snaps while"
held "snapdir=none" "held by the discfs mount at '$MNT', which shows no sessions (-o snapdir=none)"
ok "discfs sessions of a held drive names the mount's own sessions directory, or none"
