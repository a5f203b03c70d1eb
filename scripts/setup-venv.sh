#!/usr/bin/env bash
# Creates .venv with the engine's dependencies, once: a stamp records the
# requirements it was built from, so re-running is a no-op until they change.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
req="$root/engine/requirements.txt"
stamp="$venv/.kiln-requirements"
python=${PYTHON:-python3}

if [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
  exit 0
fi
echo "setting up $venv" >&2
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
# torch alone first: with it in place pip resolves the rest against this build
# instead of pulling a 3 GB CUDA wheel on CPU-only machines.
"$venv/bin/pip" install -q "$(grep '^torch==' "$req")"
"$venv/bin/pip" install -q -r "$req"
"$venv/bin/pip" install -q -e "$root/engine" --no-deps
# PyPI's torchaudio is linked against CUDA; without CUDA its native libraries
# fail to load, while ltx-core only needs its pure-torch parts.
if ! "$venv/bin/python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  rm -f "$site"/torchaudio/lib/*.so
fi
"$venv/bin/python" -c 'import torchaudio, ltx_core, ltx_pipelines, peft, fal_client'
cp "$req" "$stamp"
