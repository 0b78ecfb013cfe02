#!/bin/bash
# The parser benchmark: feedmux's parser beside xmllint --stream and sfeed.
#
#   bench/parse-bench.sh [-b BYTES] [-s SEED] [-r ROUNDS] [BUILD_DIR]
#
# Generates a corpus (feedmux-gencorpus; default 100M, seed 1) in a temporary
# directory, removed at the end, and times over it, ROUNDS times each
# (default 5), taking turns so that load from elsewhere falls on all alike:
#
#   feedmux       feedmux-parse over every file (RSS, Atom, RDF, JSON Feed)
#   feedmux-xml   feedmux-parse over the XML files only
#   xmllint       xmllint --stream --noout over the XML files (one process)
#   sfeed         sfeed over the XML files, concatenated into one stream
#                 (one process; sfeed reads one stream, and does not decode
#                 encodings)
#   sfeed-each    sfeed with a process per XML file, as sfeed_update runs it
#
# Each tool's best round counts (CPU time, user + system, of the whole
# process).  Prints MB/s and items/s per tool, feedmux's XML throughput as a
# ratio to xmllint's, and feedmux's peak resident set size.  The machine is
# shared: compare only figures from one run.
#
# Needs xmllint (libxml2-utils) and sfeed: scripts/setup --bench.  BUILD_DIR
# (default build-bench) is configured and built when it is not there.
set -eu
cd "$(dirname "$0")/.."

bytes=100M seed=1 rounds=5
while getopts b:s:r: opt; do
	case $opt in
	b) bytes=$OPTARG ;;
	s) seed=$OPTARG ;;
	r) rounds=$OPTARG ;;
	*) echo "usage: bench/parse-bench.sh [-b BYTES] [-s SEED] [-r ROUNDS] [BUILD_DIR]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
build=${1:-build-bench}
for tool in xmllint sfeed; do
	command -v $tool >/dev/null || { echo "parse-bench: $tool missing (scripts/setup --bench)" >&2; exit 2; }
done

if [ ! -x "$build/bench/feedmux-parse" ] || [ ! -x "$build/bench/feedmux-gencorpus" ]; then
	cmake -S . -B "$build" --log-level=WARNING -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j "$(nproc)" --target feedmux-parse feedmux-gencorpus -- -s
fi
parse=$build/bench/feedmux-parse

tmp=$(mktemp -d "${TMPDIR:-/tmp}/feedmux-parse-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/corpus"
echo "corpus: $("$build/bench/feedmux-gencorpus" -s "$seed" -b "$bytes" "$tmp/corpus")"
all=("$tmp"/corpus/*)
xml=()
for f in "${all[@]}"; do
	case $f in *.json) ;; *) xml+=("$f") ;; esac
done
cat "${xml[@]}" >"$tmp/xml.cat"
xml_bytes=$(stat -c %s "$tmp/xml.cat")
all_bytes=$(cat "${all[@]}" | wc -c)
xml_items=$("$parse" "${xml[@]}" 2>/dev/null | awk '{print $4}')
all_items=$("$parse" "${all[@]}" 2>/dev/null | awk '{print $4}')
sfeed_items=$(sfeed <"$tmp/xml.cat" | wc -l)
sfeed_each_items=$(for f in "${xml[@]}"; do sfeed <"$f"; done | wc -l)

# cpu COMMAND...: the command's CPU time (user + system) in seconds.
cpu() {
	local TIMEFORMAT='%U %S' t
	t=$({ time "$@" >/dev/null 2>&1; } 2>&1)
	awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.3f\n", a[1] + a[2] }'
}
declare -A best
keep() { # keep NAME SECONDS: remember the smallest
	if [ -z "${best[$1]:-}" ] || awk -v a="$2" -v b="${best[$1]}" 'BEGIN { exit !(a < b) }'; then
		best[$1]=$2
	fi
}
for ((round = 1; round <= rounds; round++)); do
	keep feedmux "$(cpu "$parse" "${all[@]}")"
	keep feedmux-xml "$(cpu "$parse" "${xml[@]}")"
	keep xmllint "$(cpu xmllint --stream --noout "${xml[@]}")"
	# shellcheck disable=SC2016 # $1 is the inner shell's
	keep sfeed "$(cpu sh -c 'exec sfeed <"$1"' sh "$tmp/xml.cat")"
	# shellcheck disable=SC2016 # likewise
	keep sfeed-each "$(cpu sh -c 'for f; do sfeed <"$f"; done' sh "${xml[@]}")"
done
rss=$("$parse" "${all[@]}" 2>/dev/null | awk '{print $NF}')

row() { # row NAME BYTES [ITEMS]
	awk -v n="$1" -v b="$2" -v i="${3:-}" -v s="${best[$1]}" 'BEGIN {
		if (s <= 0) s = 0.001
		printf "%-12s %6.1f MB in %6.3f s  %7.1f MB/s", n, b / 1e6, s, b / 1e6 / s
		if (i != "") printf "  %9.0f items/s", i / s
		printf "\n" }'
}
echo "best of $rounds rounds, CPU time (user + system):"
row feedmux "$all_bytes" "$all_items"
row feedmux-xml "$xml_bytes" "$xml_items"
row xmllint "$xml_bytes" # checks well-formedness only: no items
row sfeed "$xml_bytes" "$sfeed_items"
row sfeed-each "$xml_bytes" "$sfeed_each_items"
awk -v f="${best[feedmux-xml]}" -v x="${best[xmllint]}" -v s="${best[sfeed]}" \
    -v e="${best[sfeed-each]}" 'BEGIN {
	printf "feedmux-xml / xmllint --stream throughput: %.2f\n", x / f
	printf "feedmux-xml / sfeed throughput: %.2f (process per file: %.2f)\n", s / f, e / f }'
echo "feedmux peak RSS over the whole corpus: $rss KB"
