#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run one stage of a make target and say how long it took.
# Usage: stage.sh NAME COMMAND [ARG...]
set -euo pipefail

name=$1
shift
start=$SECONDS
rc=0
"$@" || rc=$?
echo "== stage $name: $((SECONDS - start)) s (exit $rc)" >&2
exit "$rc"
