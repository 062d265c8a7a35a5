#!/usr/bin/env bash
# Parallel writers and readers against the multi-threaded daemon, checked by fio's
# own verification: staged data, data read from the disc after a commit, and both
# at once (readers verify committed files while writers stage new ones).
. "$(dirname "$0")/lib.sh"
command -v fio >/dev/null || skip "fio is not installed (scripts/install-deps --tests)"

IMG=$T/disc.iso
fio_job() { # fio_job NAME RW [extra options]
    local name=$1 rw=$2; shift 2
    fio --name="$name" --directory="$MNT" --numjobs=4 --size=8m --bs=64k --rw="$rw" \
        --verify=crc32c --verify_fatal=1 --verify_state_save=0 --ioengine=psync --randrepeat=1 "$@" \
        --output="$T/$name.$rw.out" || { cat "$T/$name.$rw.out" >&2; fail "fio $name $rw failed"; }
    grep -q "err= 0" "$T/$name.$rw.out" || { cat "$T/$name.$rw.out" >&2; fail "fio $name $rw reported errors"; }
}

mount_disc "$IMG"
fio_job set1 randwrite                       # 4 writers, each verifies what it wrote
fio_job set1 randwrite --verify_only          # read back from the stage
ok "4 parallel writers: staged data verifies"
sync "$MNT"
fio_job set1 randwrite --verify_only          # read back from the disc
ok "after the commit the data verifies from the disc"

# readers of committed files and writers of new ones at the same time
fio_job set1 randwrite --verify_only --loops=3 &
readers=$!
fio_job set2 randwrite
wait $readers || fail "the readers failed while writers were busy"
ok "4 readers of the disc and 4 writers to the stage in parallel"
unmount_disc

mount_disc "$IMG"
fio_job set1 randwrite --verify_only
fio_job set2 randwrite --verify_only
ok "after a remount both sets verify from the disc"
# overwrite committed files in parallel: copy-up under load
fio_job set1 randwrite --size=8m --bs=16k
unmount_disc
mount_disc "$IMG"
fio_job set1 randwrite --size=8m --bs=16k --verify_only
unmount_disc
ok "parallel overwrites of on-disc files (copy-up) verify after a commit"
