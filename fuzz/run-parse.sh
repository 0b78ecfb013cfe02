#!/bin/sh
# The parser's fuzz target: fuzz/run.sh parse [SECONDS] [libFuzzer flags...].
exec "$(dirname "$0")/run.sh" parse "$@"
