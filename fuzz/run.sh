#!/bin/sh
# Run one libFuzzer target.
#
#   fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]   (default 60 s)
#   fuzz/run.sh --build      build every target and stop (then run several
#                            at once with FUZZ_PREBUILT=1, as scripts/test does)
#
# TARGET is parse, date, urlnorm, config or request (fuzz/CMakeLists.txt says
# what each covers).  Builds build-fuzz/ (or $FUZZ_BUILD: a long run beside
# CI's short one) with clang (ASan + UBSan + libFuzzer), then runs
# fuzz_TARGET on a working corpus in that directory's corpus-TARGET/, seeded
# from fuzz/corpus/TARGET/ and, where they fit, the tests' fixtures and the
# conformance corpora in ../shared/corpus (read, never copied into the
# repository), with fuzz/TARGET.dict when there is one.  New inputs land in
# the working corpus; a finding makes the script fail and names the file
# that reproduces it (under findings/, replay it with: build-fuzz/fuzz/fuzz_TARGET FILE).
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]" >&2; exit 2; }
t=$1
secs=${2:-60}
shift
[ $# -gt 0 ] && shift
jobs=$(nproc 2>/dev/null || echo 2)
b=${FUZZ_BUILD:-build-fuzz}

# Configure $b and build the targets named (cmake target names).
build() {
	CC=clang cmake -S . -B "$b" --log-level=WARNING -DFEEDMUX_FUZZ=ON \
		-DFEEDMUX_TESTS=OFF -DFEEDMUX_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$b" -j "$jobs" --target "$@" -- --no-print-directory -s
}
if [ "$t" = --build ]; then
	build fuzz_parse fuzz_date fuzz_urlnorm fuzz_config fuzz_request
	exit 0
fi

seeds="fuzz/corpus/$t"
extra=
case $t in
parse)
	max_len=65536
	seeds="$seeds tests/data/parse tests/data/feeds"
	for d in ../shared/corpus/feedparser ../shared/corpus/gofeed/testdata ../shared/corpus/rome; do
		[ -d "$d" ] && seeds="$seeds $d"
	done ;;
date) max_len=256 ;;
urlnorm) max_len=4096 ;;
config)
	max_len=8192
	seeds="$seeds tests/data/conf" ;;
request)
	max_len=8192
	# The server keeps connections until its once-a-second sweep, so every
	# input looks like a leak to libFuzzer, which then runs LeakSanitizer
	# after each (30 runs a second instead of thousands).  Leaks are checked
	# once, at exit, after the harness has freed the server and the store.
	extra=-detect_leaks=0 ;;
*) echo "fuzz/run.sh: no target '$t' (parse, date, urlnorm, config, request)" >&2; exit 2 ;;
esac
dict=
[ -f "fuzz/$t.dict" ] && dict="-dict=fuzz/$t.dict"

[ -n "${FUZZ_PREBUILT:-}" ] || build "fuzz_$t"

work=$b/corpus-$t
mkdir -p "$work" "$b/findings"
start=$b/findings/.started-$t
touch "$start"
# -fork is not used: a finding must stop the run at once and be named.
# shellcheck disable=SC2086 # the seed folders and the dictionary are words on purpose
"$b/fuzz/fuzz_$t" -max_total_time="$secs" -max_len="$max_len" -timeout=10 \
	-rss_limit_mb=1024 $dict -artifact_prefix="$b/findings/$t-" \
	-print_final_stats=1 $extra "$@" "$work" $seeds && exit 0
rc=$?
repro=$(find "$b/findings" -name "$t-*" -newer "$start" 2>/dev/null | head -1)
if [ -n "$repro" ]; then
	echo "fuzz/run.sh: fuzz_$t found a problem (exit $rc); reproducer: $repro" >&2
else
	echo "fuzz/run.sh: fuzz_$t stopped with exit $rc (no reproducer written: killed?)" >&2
fi
exit "$rc"
