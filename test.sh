#!/usr/bin/env bash
# Builds the solution and runs every test project.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
dotnet test AlignSharp.sln -c Release --nologo "$@"
