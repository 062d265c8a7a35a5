#!/bin/sh
# cdrskin (a second libburn client, cdrecord-style) agrees with xorriso
# about the virtual media: -atip, -minfo, -msinfo, -toc; and it can write.
# cdrskin takes the node as dev=NODE (no "mmc:" prefix).
. "$(dirname "$0")/lib.sh"
need xorriso cdrskin

cdr() { vd -- cdrskin "dev=$NODE" "$@"; }

vd --media cdr --create-opt --atip --create-opt 97:34:24
cdr -atip >"$T/atip" 2>&1 || fail "atip: $(cat "$T/atip")"
grep -q "ATIP start of lead in:  -11076 (97:34/24)" "$T/atip" || fail "atip: $(cat "$T/atip")"
grep -q "ATIP start of lead out: 359849 (79:59/74)" "$T/atip" || fail "lead-out"
grep -q "Product Id:    97m34s24f/79m59s74f" "$T/atip" || fail "product id"
grep -q "Producer:      Mitsubishi Chemical Corporation" "$T/atip" || fail "producer"

# first session by cdrskin (TAO, -multi), from an ISO made by xorriso
echo one >"$T/f1"
xorriso -as mkisofs -quiet -o "$T/s1.iso" "$T/f1" || fail "mkisofs"
cdr -v -tao -multi "$T/s1.iso" >"$T/w1" 2>&1 || fail "cdrskin write: $(tail "$T/w1")"
[ "$(cdr -msinfo 2>/dev/null)" = "0,11702" ] || fail "msinfo after cdrskin: $(cdr -msinfo 2>&1)"
# second session by xorriso; cdrskin sees it
echo two >"$T/f2"
xo "$T/w2" -map "$T/f2" /f2 -commit || fail "xorriso commit: $(cat "$T/w2")"
[ "$(cdr -msinfo 2>/dev/null)" = "11702,18904" ] || fail "msinfo: $(cdr -msinfo 2>&1)"
cdr -minfo >"$T/minfo" 2>&1 || fail "minfo"
grep -q "^Mounted media type: *CD-R" "$T/minfo" || fail "minfo type"
grep -q "^disk status: *incomplete/appendable" "$T/minfo" || fail "minfo status"
grep -q "^Next writable address: *18904" "$T/minfo" || fail "minfo nwa: $(cat "$T/minfo")"
grep -q "^Remaining writable size: *$((359849 - 18904))" "$T/minfo" || fail "minfo free"
cdr -toc >"$T/toc" 2>&1 || fail "toc"
grep -q "^track:   2 lba:     11702 " "$T/toc" || fail "toc: $(cat "$T/toc")"

for type in dvd-r dvd+r bd-r; do
    vd --name "$type" --media "$type"
    xo "$T/x-$type" -map "$T/f1" /f1 -commit || fail "$type commit"
    nwa=$(status_of nwa)
    cdr -msinfo >"$T/ms" 2>&1 || fail "$type msinfo: $(cat "$T/ms")"
    [ "$(tail -n 1 "$T/ms")" = "0,$nwa" ] || fail "$type msinfo $(cat "$T/ms"), nwa $nwa"
    cdr -minfo >"$T/mi-$type" 2>&1 || fail "$type minfo"
    grep -q "^Next writable address: *$nwa" "$T/mi-$type" || fail "$type minfo nwa"
done
echo "ok: cdrskin agrees on CD-R, DVD-R, DVD+R, BD-R"
