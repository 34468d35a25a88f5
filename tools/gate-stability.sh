#!/bin/sh
# gate-stability.sh N [GATE_FLAGS...]: run `make gate` N times in a row,
# each from a fresh clone of this repository's HEAD as it was when the
# script started (what is committed, nothing else; commits made meanwhile
# are not picked up), and print each run's exit code and one-line summary
# (idstack-chaos summary), then the tally. Exits 0 when every run exited
# with EXPECT (default 0: the gate must pass; EXPECT=1 for a broken stack
# the gate must fail on).
set -eu
n=${1:?usage: gate-stability.sh N [gate flags]}
shift
flags=${*:---suite default}
expect=${EXPECT:-0}
root=$(git rev-parse --show-toplevel)
work=$root/.cache/gate-stability
rm -rf "$work"
mkdir -p "$work"
head=$(git -C "$root" rev-parse HEAD)
echo "gate-stability: $n runs of make gate GATE_FLAGS=\"$flags\" at $(git -C "$root" rev-parse --short HEAD), each from a fresh clone; want exit $expect"
ok=0
i=1
while [ "$i" -le "$n" ]; do
	dir=$work/run-$i
	git clone --quiet "$root" "$dir"
	git -C "$dir" checkout --quiet "$head"
	start=$(date +%s)
	set +e
	make -C "$dir" gate GATE_FLAGS="$flags" >"$work/run-$i.log" 2>&1
	code=$?
	set -e
	# make reports any failure as 2; the gate's own code is kept beside
	# the report.
	[ -f "$dir/results/chaos/exit-code" ] && code=$(cat "$dir/results/chaos/exit-code")
	took=$(( $(date +%s) - start ))
	summary=$("$root/bin/idstack-chaos" summary "$dir/results/chaos/report.json" 2>/dev/null || echo "no report: see $work/run-$i.log")
	echo "run $i: exit $code in ${took}s: $summary"
	[ "$code" -eq "$expect" ] && ok=$((ok + 1))
	i=$((i + 1))
done
echo "gate-stability: $ok of $n runs exited $expect"
[ "$ok" -eq "$n" ]
