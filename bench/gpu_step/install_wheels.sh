#!/usr/bin/env bash
# On the GPU machine (no network): makes a venv that sees the machine's own torch and installs the
# bench's other dependencies from the wheel folder make_wheels.sh wrote. Then run the bench:
#
#   bench/gpu_step/install_wheels.sh [wheels/gpu-bench] && .gpu-bench/bin/python bench/gpu_step/bench.py
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
wheels=${1:-"$root/wheels/gpu-bench"}
venv=${VENV:-"$root/.gpu-bench"}
python=${PYTHON:-python3}
"$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' \
  || { echo "this machine's $python has no torch; install the CUDA build of torch first" >&2; exit 1; }
[ -x "$venv/bin/python" ] || "$python" -m venv --system-site-packages "$venv"
"$venv/bin/python" -m pip install --quiet --no-index --no-deps --find-links "$wheels" -r "$wheels/requirements.txt"
if ls "$wheels"/torchaudio-*.whl >/dev/null 2>&1 && ! "$venv/bin/python" -c 'import torchaudio' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --no-index --no-deps --find-links "$wheels" torchaudio
fi
if ! "$venv/bin/python" -c 'import torchaudio' 2>/dev/null; then
  # A torchaudio built for another torch fails on its native libraries; ltx-core needs only its
  # pure-torch parts, which import once those are gone (the bench venv's copy only).
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "torchaudio's native libraries do not load next to this torch; keeping its pure-torch parts" >&2
  rm -f "$site"/torchaudio/lib/*.so
fi
"$venv/bin/python" -c 'import torchaudio, ltx_core.model.audio_vae, peft, transformers' \
  || { echo "the bench's dependencies do not import; re-run make_wheels.sh with --python and --torch of this machine" >&2; exit 1; }
echo "ready: $venv/bin/python bench/gpu_step/bench.py" >&2
