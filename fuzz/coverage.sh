#!/bin/sh
# Line coverage of a fuzz target's working corpus, by module.
#
#   fuzz/coverage.sh TARGET [CORPUS...]   (default: $FUZZ_BUILD/corpus-TARGET and fuzz/corpus/TARGET)
#
# Builds build-fuzz-cov/ with llvm's source-based coverage, runs every input
# once (no fuzzing) and prints llvm-cov's report for the product's sources.
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: fuzz/coverage.sh TARGET [CORPUS...]" >&2; exit 2; }
t=$1
shift
b=build-fuzz-cov
[ $# -gt 0 ] || set -- "${FUZZ_BUILD:-build-fuzz}/corpus-$t" "fuzz/corpus/$t"
CC=clang cmake -S . -B "$b" --log-level=WARNING -DFEEDMUX_FUZZ=ON -DFEEDMUX_FUZZ_COVERAGE=ON \
	-DFEEDMUX_TESTS=OFF -DFEEDMUX_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$b" -j "$(nproc 2>/dev/null || echo 2)" --target "fuzz_$t" -- --no-print-directory -s
rm -f "$b/$t.profraw"
LLVM_PROFILE_FILE="$b/$t.profraw" "$b/fuzz/fuzz_$t" -runs=0 -detect_leaks=0 "$@" >"$b/$t.log" 2>&1
llvm-profdata merge -sparse "$b/$t.profraw" -o "$b/$t.profdata"
llvm-cov report "$b/fuzz/fuzz_$t" -instr-profile="$b/$t.profdata" \
	util config feeds storage daemon
