#!/usr/bin/env bash
# vdrive-fill.sh MEDIA CAPACITY KIND PRIOR: after PRIOR small sessions, fill a
# virtual MEDIA until a change fails with ENOSPC, with KIND:
#   files  - files of 1 MiB
#   dirs   - empty directories
#   xattrs - empty files with a 60000-byte xattr each
#   names  - deep paths of 200-byte directory names holding files of 250-byte names
#   mixed  - directories with xattrs holding hard links, long symlinks, FIFOs
# then commit.  The commit must succeed, and the disc must have at least what df
# promised just before it (f_bavail: what is left after the next session).  Prints
# promised, left and the slack.  A fresh mount with an empty cache shows every
# entry made.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
MEDIA=${1:?usage: vdrive-fill.sh MEDIA CAPACITY KIND PRIOR}
CAP=${2:?}
KIND=${3:?}
PRIOR=${4:?}

vd --media "$MEDIA" --capacity "$CAP"

mount_disc "mmc:$NODE"
for s in $(seq "$PRIOR"); do
    mkdir "$MNT/prior$s"
    echo "$s" >"$MNT/prior$s/file"
    sync "$MNT" || fail "prior session $s failed: $(cat "$LOG")"
done

# fill: prints how many entries it made and the errno that stopped it
python3 - "$MNT" "$KIND" >"$T/fill" <<'EOF'
import errno, os, sys
mnt, kind = sys.argv[1], sys.argv[2]
made, pending = 0, None
def stop(e):
    if pending and os.path.lexists(pending):
        os.unlink(pending)  # what a user does with the partial file
    print(made, errno.errorcode.get(e.errno, e.errno)); sys.exit(0)
chunk = os.urandom(1 << 20)
big = b"v" * 60000
try:
    if kind == "files":
        while True:
            pending = os.path.join(mnt, "f%05d" % made)
            with open(pending, "wb") as f:
                f.write(chunk)
            made += 1
    elif kind == "dirs":
        while True:
            os.mkdir(os.path.join(mnt, "d%06d" % made)); made += 1
    elif kind == "xattrs":
        while True:
            pending = os.path.join(mnt, "x%05d" % made)
            open(pending, "wb").close()
            os.setxattr(pending, "user.big", big)
            made += 1
    elif kind == "names":
        branch = 0
        while True:
            d = os.path.join(mnt, "b%d" % branch); branch += 1
            os.mkdir(d); made += 1
            for depth in range(12):
                d = os.path.join(d, ("%03d" % depth) + "D" * 197)
                os.mkdir(d); made += 1
                for k in range(4):
                    open(os.path.join(d, ("%d" % k) + "n" * 249), "wb").close(); made += 1
    elif kind == "mixed":
        while True:
            d = os.path.join(mnt, "m%05d" % made)
            os.mkdir(d); made += 1
            os.setxattr(d, "user.dir", b"d" * 1000)
            f = pending = os.path.join(d, "file")
            with open(f, "wb") as fh:
                fh.write(b"x" * 3000)
            os.setxattr(f, "user.f", b"f" * 300); made += 1
            pending = None
            for k in range(3):
                os.link(f, os.path.join(d, "hard%d" % k)); made += 1
            os.symlink("t/" * 150, os.path.join(d, "sym")); made += 1
            os.mkfifo(os.path.join(d, "fifo" + "q" * 150)); made += 1
except OSError as e:
    stop(e)
EOF
read -r made why <"$T/fill"
[ "$why" = ENOSPC ] || fail "filling with $KIND stopped after $made with $why, not ENOSPC"
[ "$made" -gt 0 ] || fail "not one $KIND entry fitted"
promised=$(df_avail)
sync "$MNT" || fail "the commit of a disc filled with $KIND failed: $(cat "$LOG")"
left=$(disc_free "$CAP")
echo "# slack $MEDIA $KIND after $PRIOR sessions: $made entries; df promised $((promised / 1024)) KiB," \
    "the disc has $((left / 1024)) KiB: slack $(((left - promised) / 1024)) KiB"
[ "$left" -ge "$promised" ] || fail "df promised $promised bytes free after the commit, the disc has $left"
ok "$MEDIA filled with $KIND to ENOSPC after $PRIOR sessions: the commit succeeded and kept df's promise"

unmount_disc_noisy
if daemon_said | grep -v "the commit closed the disc" | grep -q .; then fail "unexpected daemon output: $(cat "$LOG")"; fi
[ "$(toc_starts | wc -w)" = $((PRIOR + 1)) ] || fail "the disc does not have $((PRIOR + 1)) sessions"
rm -rf "$CACHE"
mount_disc "mmc:$NODE" -o ro
n=$(find "$MNT" -mindepth 1 -not -path "$MNT/prior*" | wc -l)
[ "$n" = "$made" ] || fail "a fresh mount shows $n entries, $made were made"
fusermount3 -u "$MNT"
wait "$PID"
PID=
ok "a fresh mount shows all $made entries"
