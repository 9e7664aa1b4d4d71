#!/usr/bin/env bash
# Builds the solution, runs every test project, and ends with one summary line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
log="$(mktemp)"
dotnet test AlignSharp.sln -c Release --nologo "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
rm -f "$log"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a build or runner failure counts as a failure
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
