#!/usr/bin/env bash
# Downloads every wheel bench/gpu_step needs besides torch into a folder, on a machine WITH network,
# for a GPU machine WITHOUT network. Then copy the repository (or just engine/, bench/ and the
# folder) over and run install_wheels.sh there.
#
#   bench/gpu_step/make_wheels.sh [--dest wheels/gpu-bench] [--python 3.11] [--torch 2.11.0]
#
# --python: the GPU machine's Python (major.minor); --torch: its torch version, to add the matching
# torchaudio wheel (ltx-core imports torchaudio; PyPI's torchaudio must match torch exactly).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dest="$root/wheels/gpu-bench"
python_version=""
torch_version=""
pip=${PIP:-"$root/.venv/bin/pip"}
[ -x "$pip" ] || pip="python3 -m pip"
while [ $# -gt 0 ]; do
  case "$1" in
    --dest) dest=$2; shift 2 ;;
    --python) python_version=$2; shift 2 ;;
    --torch) torch_version=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
mkdir -p "$dest"
target=()
if [ -n "$python_version" ]; then
  # Cross-download for another Python: binary wheels only, for the usual Linux x86_64 platform tags.
  target=(--only-binary=:all: --python-version "$python_version" --implementation cp
          --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
          --platform linux_x86_64 --platform any)
fi
$pip download --quiet --no-deps "${target[@]}" -d "$dest" -r "$here/requirements.txt"
if [ -n "$torch_version" ]; then
  minor=$(echo "$torch_version" | cut -d. -f1,2)
  # torchaudio is usually released in lockstep with torch (X.Y with X.Y); when PyPI has no such
  # release, take the newest: install_wheels.sh then keeps only its pure-torch parts, which is all
  # ltx-core uses (MelSpectrogram, resample), as scripts/setup-venv.sh does on CPU machines.
  if ! $pip download --quiet --no-deps "${target[@]}" -d "$dest" "torchaudio==$minor.*" 2>/dev/null; then
    echo "no torchaudio $minor.* on the index; downloading the newest torchaudio instead" >&2
    $pip download --quiet --no-deps "${target[@]}" -d "$dest" torchaudio
  fi
fi
cp "$here/requirements.txt" "$dest/requirements.txt"
echo "wrote $(ls "$dest"/*.whl | wc -l) wheels ($(du -sh "$dest" | cut -f1)) to $dest" >&2
