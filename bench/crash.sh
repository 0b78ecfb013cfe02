#!/bin/sh
# The crash test of issues 4 and 8 at full length: kill -9 feedmuxd at
# random moments during polls and ingest, and (every other round) around a
# reload (SIGHUP) that adds a feed, 100 times, restarting each time,
# checking the database after each kill: integrity_check ok, no duplicates,
# every item of an earlier round still there, every fetch the log reported
# as stored complete (tests/check_daemon.c, case "crash"; CI runs 5).
#   bench/crash.sh [BUILD_DIR] [ROUNDS]
set -eu
build=${1:-build}
FEEDMUX_CRASH_ROUNDS=${2:-100} CK_RUN_CASE=crash exec "$build/tests/check_daemon"
