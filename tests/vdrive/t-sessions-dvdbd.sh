#!/bin/sh
# t-sessions-dvdbd.sh TYPE: three xorriso sessions on a virtual DVD-R,
# DVD+R or BD-R; -toc must list them at the addresses the medium model
# gives (end of the previous session + the type's gap, aligned), and the
# drive's track list must agree.
. "$(dirname "$0")/lib.sh"
need xorriso
type=${1:?medium type}

vd --media "$type"
for i in 1 2 3; do
    echo "session $i" >"$T/f$i"
    xo "$T/w$i" -map "$T/f$i" "/f$i" -commit || fail "commit $i: $(cat "$T/w$i")"
done
xo "$T/toc" -toc -ls / || fail "toc: $(cat "$T/toc")"
starts=$(toc_starts "$T/toc")

# expected: from the drive's own records and the documented gap rule
expected=$(ctl show | awk '
    $1 == "gap_first" { gf = $2 }
    $1 == "gap_next" { gn = $2 }
    $1 == "track" { n++; st[n] = $3; sz[n] = $5 }
    END {
        al = (type == "bd-r") ? 32 : 16
        s = 0; out = "0"
        for (i = 1; i < n; i++) {
            g = (i == 1) ? gf : gn
            s = st[i] + sz[i] + g
            s = int((s + al - 1) / al) * al
            if (s != st[i + 1]) { print "mismatch"; exit }
            out = out " " s
        }
        print out
    }' type="$type")
[ "$starts" = "$expected" ] || fail "$type: toc '$starts', model '$expected'"
set -- $starts
[ $# -eq 3 ] || fail "$type: $# sessions"
nwa=$(sed -n 's/^Media nwa *: *\([0-9]*\)s.*/\1/p' "$T/toc")
[ "$nwa" = "$(status_of nwa)" ] || fail "$type: xorriso nwa $nwa, drive $(status_of nwa)"
grep -q "'f3'" "$T/toc" || fail "newest session lacks f3"
echo "ok: $type sessions at $starts, nwa $nwa"
