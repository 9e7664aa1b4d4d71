#!/usr/bin/env bash
# Runs check.mjs (the npm `openai` client) against `alignsharp serve` on a tiny random model, end to end:
# writes the model folder, starts the server on a free loopback port with an API key, installs the pinned client
# into a temporary folder (nothing is installed in the repository), runs the check, stops the server.
#   tools/openai-node/check.sh            (from anywhere; needs dotnet, node ≥ 20 and npm)
# To check a server you already run:  node check.mjs http://HOST:PORT/v1 MODEL  (in a folder where `npm install` ran).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
server=""
cleanup() { [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cp "$here/package.json" "$here/check.mjs" "$work/"
(cd "$work" && npm install --no-audit --no-fund --loglevel=error >/dev/null)

"$root/alignsharp" model init --arch llama --preset tiny --seed 3 \
  --tokenizer "$root/tests/AlignSharp.Models.Tests/Fixtures/tokenizers/qwen2" --out "$work/tiny-chat" >/dev/null
export OPENAI_API_KEY="check-$RANDOM$RANDOM"
"$root/alignsharp" serve --model "$work/tiny-chat" --port 0 --api-key-env OPENAI_API_KEY >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 1 600); do
  url="$(grep -o 'http://[^ ]*/v1' "$work/serve.out" || true)"
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "check.sh: the server printed no address" >&2; exit 1; }
echo "server: $url (model tiny-chat, openai $(node -p "require('$work/node_modules/openai/package.json').version"), node $(node --version))"
(cd "$work" && node check.mjs "$url" tiny-chat)
