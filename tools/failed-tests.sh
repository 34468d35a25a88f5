#!/bin/sh
# failed-tests.sh LOG [LINES]: print the output of every test that failed in
# the verbose `go test -v` log LOG (the lines from its `=== RUN` to its
# `--- FAIL`), at most LINES (default 120) per test, so that a CI log says why
# a test failed, not only that it did. Subtests are printed within their
# parent.
set -eu
log=${1:?usage: failed-tests.sh LOG [LINES]}
lines=${2:-120}
awk -v max="$lines" '
/^=== RUN   [^\/]+$/ { name = $3; n = 0; delete buf }
name != "" { buf[n++] = $0 }
/^--- FAIL: / && $3 == name {
	from = n > max ? n - max : 0
	note = ""
	if (from > 0) note = sprintf(", the last %d", max)
	printf "--- output of %s (%d lines%s) ---\n", name, n, note
	for (i = from; i < n; i++) print buf[i]
	name = ""
}
/^--- (PASS|SKIP): / && $3 == name { name = "" }
' "$log"
