#!/bin/sh
# The crash test of issue 4 at full length: kill -9 feedmuxd at random
# moments during ingest, 50 times, restarting each time, checking the
# database after each kill (tests/check_daemon.c, case "crash"; CI runs 5).
#   bench/crash.sh [BUILD_DIR] [ROUNDS]
set -eu
build=${1:-build}
FEEDMUX_CRASH_ROUNDS=${2:-50} CK_RUN_CASE=crash exec "$build/tests/check_daemon"
