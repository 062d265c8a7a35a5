#!/usr/bin/env bash
# A daemon in the background logs to syslog as discfs[PID]: each commit's result,
# and a failure with what to do (README.md, Logs).
. "$(dirname "$0")/lib.sh"
IMG=$T/disc.iso
if [ -e /dev/log ]; then
    command -v journalctl >/dev/null || skip "/dev/log is there, but no journalctl to read it"
    read_log() { journalctl -q -o cat -t discfs _PID="$1" 2>/dev/null || true; }
else
    [ "$(id -u)" -eq 0 ] || skip "no syslog here (/dev/log), and only root may stand in for one"
    # no syslog daemon on this machine: listen on /dev/log for the test's time
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
out = open(sys.argv[1], "ab", buffering=0)
while True:
    out.write(s.recv(65536) + b"\n")' "$T/syslog" &
    LISTENER=$!
    trap 'kill $LISTENER 2>/dev/null; rm -f /dev/log; cleanup' EXIT
    for _ in $(seq 100); do [ -S /dev/log ] && break; sleep 0.05; done
    read_log() { grep -a "discfs\[$1\]: " "$T/syslog" | sed 's/.*discfs\[[0-9]*\]: //' || true; }
    # daemon.info is <30>, daemon.warning <28>
    levels() {
        grep -aq "^<30>.*discfs\[$1\]: session 1 written to" "$T/syslog" &&
            grep -aq "^<28>.*discfs\[$1\]: commit to .* failed" "$T/syslog"
    }
fi

"$DISCFS" "$IMG" "$MNT" -o cache="$CACHE" >"$T/out" 2>&1 || fail "discfs in the background failed: $(cat "$T/out")"
[ ! -s "$T/out" ] || fail "the mount printed: $(cat "$T/out")"
pid=$(pgrep -f -- "$DISCFS $IMG $MNT") || fail "no daemon"
echo data >"$MNT/f"
sync "$MNT" || fail "sync failed"
mkdir -p "$T/x" && echo x >"$T/x/x"
xorriso -dev "$IMG" -map "$T/x" /x -commit >/dev/null 2>&1 || fail "xorriso could not append"
echo more >"$MNT/g"
if sync "$MNT" 2>/dev/null; then fail "a sync of a changed image succeeded"; fi
fusermount3 -u "$MNT"
for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
sleep 0.2
log=$(read_log "$pid")
grep -qx "session 1 written to '$IMG' and read back ([0-9]* blocks)" <<<"$log" ||
    fail "the commit's result is not in syslog: $log"
grep -q "^commit to '$IMG' failed: the image '$IMG' was changed by another program.*the changes stay staged in '$CACHE/[0-9a-f]*' for the next commit" <<<"$log" ||
    fail "the failed commit and what to do are not in syslog: $log"
if declare -F levels >/dev/null; then
    levels "$pid" || fail "the levels are not info for a result, warning for a failure: $(cat -v "$T/syslog")"
fi
ok "a daemon in the background logs each commit's result and failures to syslog"
