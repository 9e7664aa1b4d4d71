#!/usr/bin/env bash
# The long fuzz campaign: every parser on 10^6 generated and mutated inputs (fixed seed), each parser in worker
# processes so stack overflows and hangs are caught too. Prints per parser: inputs tried, distinct crashes, inputs/s.
# Extra arguments pass through, e.g. --parser jsonl, --inputs 10000, --seed 2, --budget-s 600 (time box per parser).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec nice -n 19 dotnet run --project tools/fuzz/AlignSharp.Fuzz -c Release -- --parser all --inputs 1000000 "$@"
