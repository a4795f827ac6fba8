#!/usr/bin/env bash
# Create or update .venv with the pinned dependencies and, as root, the Debian packages the
# sandbox needs (and, for the tests, what builds and runs the container image: podman with
# runc, debootstrap). Idempotent: a rerun with nothing changed takes about a second.
# Usage: scripts/bootstrap.sh [EXTRAS]   (default "dev"; the main job uses "models")
set -euo pipefail
extras=${1:-dev}
cd "$(dirname "$0")/.."

debian_packages=(bubblewrap default-jdk-headless libjavatuples-java g++ nodejs)
if [[ ,$extras, == *,dev,* ]]; then
    debian_packages+=(podman runc netavark iptables debootstrap chromium)  # the container and browser tests
fi

missing_debian_packages() {
    local pkg
    for pkg in "${debian_packages[@]}"; do
        if [[ $pkg == default-jdk-headless ]] && command -v javac >/dev/null; then continue; fi
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || echo "$pkg"
    done
}

if command -v dpkg-query >/dev/null; then
    mapfile -t missing < <(missing_debian_packages)
    if ((${#missing[@]})); then
        if [[ $(id -u) == 0 ]]; then
            echo "bootstrap: installing Debian packages: ${missing[*]}"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
        else
            echo "bootstrap: missing Debian packages (run as root or install them): ${missing[*]}" >&2
        fi
    fi
fi

python=${LEDEX_PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    "$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), "ledex needs Python 3.11"'
    "$python" -m venv .venv
fi

stamp=.venv/.ledex-installed
wanted=$( (cat pyproject.toml requirements.lock; echo "$extras") | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
    echo "bootstrap: installing Python dependencies into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    # torch first, alone: its pin resolves to the CPU wheel on disk instead of pulling CUDA.
    .venv/bin/python -m pip install -q torch==2.13.0
    .venv/bin/python -m pip install -q -c requirements.lock -e ".[$extras]"
    echo "$wanted" >"$stamp"
fi
