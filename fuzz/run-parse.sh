#!/bin/sh
# Fuzz the feed parser with libFuzzer.
#
#   fuzz/run-parse.sh [SECONDS] [extra libFuzzer flags...]   (default 60 s)
#
# Builds build-fuzz/ (or $FUZZ_BUILD: a long run beside CI's short one) with
# clang (ASan + UBSan + libFuzzer), then runs fuzz_parse on a working corpus
# in that directory's corpus-parse/, seeded from fuzz/corpus/parse/, the
# parser's test fixtures, and the conformance corpora in ../shared/corpus
# when they are there (read, never copied into the repository).  New inputs
# and any crash land there too; a finding makes the script fail and names
# the file that reproduces it.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
[ $# -gt 0 ] && shift
jobs=$(nproc 2>/dev/null || echo 2)
b=${FUZZ_BUILD:-build-fuzz}

CC=clang cmake -S . -B "$b" --log-level=WARNING -DFEEDMUX_FUZZ=ON \
	-DFEEDMUX_TESTS=OFF -DFEEDMUX_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$b" -j "$jobs" --target fuzz_parse -- --no-print-directory -s

work=$b/corpus-parse
mkdir -p "$work" "$b/findings"
seeds="fuzz/corpus/parse tests/data/parse tests/data/feeds"
for d in ../shared/corpus/feedparser ../shared/corpus/gofeed/testdata ../shared/corpus/rome; do
	[ -d "$d" ] && seeds="$seeds $d"
done
# shellcheck disable=SC2086 # the seed folders are words on purpose
exec "$b/fuzz/fuzz_parse" -max_total_time="$secs" -max_len=65536 -timeout=10 \
	-rss_limit_mb=1024 -dict=fuzz/parse.dict -artifact_prefix="$b/findings/" \
	-print_final_stats=1 "$@" "$work" $seeds
