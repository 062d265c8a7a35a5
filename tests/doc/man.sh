#!/usr/bin/env bash
# doc/discfs.1 renders without a warning from groff, and names every command and every
# option that `discfs --help` lists: an option added to fs/main.c without its entry in
# the manual page fails here.
set -euo pipefail
: "${DISCFS:?DISCFS must name the discfs binary}"
PAGE=${1:?usage: man.sh doc/discfs.1}
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
command -v groff >/dev/null || { echo "SKIP: groff is not installed (scripts/install-deps --tests)"; exit 77; }

warnings=$(groff -man -ww -z "$PAGE" 2>&1)
[ -z "$warnings" ] || fail "groff warns about $PAGE: $warnings"
echo "ok - $PAGE renders without a warning"

# the page as plain text, on one line
text=$(groff -man -Tutf8 -P-cbou "$PAGE" 2>/dev/null | tr -s ' \n' '  ' | sed 's/‐/-/g')
help=$("$DISCFS" --help)
missing=()
while read -r cmd; do
    grep -qF "discfs $cmd " <<<"$text" || missing+=("discfs $cmd")
done < <(sed -n 's/^ *\(usage: \)\{0,1\}discfs \([a-z]\{1,\}\) .*/\2/p' <<<"$help")
while read -r opt; do
    grep -qF -- "$opt" <<<"$text" || missing+=("$opt")
done < <(sed -n -e '/^ *-o /{s/^ *\(-o [a-z_]\{1,\}=\{0,1\}\).*/\1/p;b' -e '}' \
    -e 's/^ *\(-[a-zA-Z]\) .*/\1/p' <<<"$help")
[ ${#missing[@]} -eq 0 ] || fail "$PAGE does not name: ${missing[*]} (see discfs --help)"
echo "ok - $PAGE names every command and option of discfs --help"
