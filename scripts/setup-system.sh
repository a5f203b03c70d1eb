#!/usr/bin/env bash
# Installs the system tools Kiln drives (ffmpeg/ffprobe, openssl, zip, wrk; curl and unzip for
# the benchmarks; python3-venv for the engine's venv) when missing.
# Debian/Ubuntu only; as root it uses apt-get directly, otherwise sudo.
set -euo pipefail
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v ffprobe >/dev/null || need+=(ffmpeg)
command -v openssl >/dev/null || need+=(openssl)
command -v zip >/dev/null || need+=(zip)
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
command -v unzip >/dev/null || need+=(unzip)
# scripts/setup-venv.sh needs a venv-capable python3 (Debian splits it out of python3).
python3 -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing ${need[*]}" >&2
if ! command -v apt-get >/dev/null; then
  echo "setup: please install ${need[*]} with your package manager" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
