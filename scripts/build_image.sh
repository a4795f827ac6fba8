#!/usr/bin/env bash
# Build the image that runs ledex stages in containers (Dockerfile, docs/containers.md) with
# podman, or with docker (LEDEX_ENGINE=docker). Idempotent: an image whose inputs are unchanged
# is kept as it is.
# Usage: scripts/build_image.sh [cpu|gpu]   (default cpu)
#   cpu  localhost/ledex:cpu on a Debian rootfs made here by debootstrap (no registry needed);
#        the host's pip must find torch's CPU wheel (a local wheel on PIP_FIND_LINKS, or
#        PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu)
#   gpu  localhost/ledex:gpu on $LEDEX_CUDA_BASE (a CUDA runtime image from a registry) with
#        torch's CUDA build from PyPI
# Environment: LEDEX_IMAGE (the tag), LEDEX_EXTRAS (the project's extras installed, default:
# none for cpu, "models" for gpu), LEDEX_APT_PACKAGES (more Debian packages in the image),
# DEBIAN_MIRROR and DEBIAN_SUITE (the CPU base rootfs), CONTAINERS_CONF (podman's settings,
# default scripts/podman.conf), PIP_CERT (the CA bundle pip uses in the build, default the
# system's).
set -euo pipefail
variant=${1:-cpu}
cd "$(dirname "$0")/.."

suite=${DEBIAN_SUITE:-bookworm}
case $variant in
    cpu)
        base=localhost/ledex-base:$suite
        torch=torch==2.13.0+cpu
        extras=${LEDEX_EXTRAS-}
        ;;
    gpu)
        base=${LEDEX_CUDA_BASE:-nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04}
        torch=torch==2.13.0
        extras=${LEDEX_EXTRAS-models}
        ;;
    *) echo "usage: $0 [cpu|gpu]" >&2; exit 2 ;;
esac
image=${LEDEX_IMAGE:-localhost/ledex:$variant}
engine=${LEDEX_ENGINE:-podman}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/podman.conf}
apt_packages=${LEDEX_APT_PACKAGES-}
python=${LEDEX_BUILD_PYTHON:-python3}
ca_bundle=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}  # what the host trusts, a proxy's CA included
work=build/image

log() { echo "build_image: $*" >&2; }

# The CPU base: a minimal Debian rootfs, imported once.
if [[ $variant == cpu ]] && ! "$engine" image inspect "$base" >/dev/null 2>&1; then
    mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    rootfs=$(mktemp -d)
    trap 'rm -rf "$rootfs"' EXIT
    log "debootstrap $suite from $mirror"
    debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >/dev/null
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | "$engine" import --message "debootstrap --variant=minbase $suite" - "$base" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
fi

# Everything the image is made of; an image labelled with the same digest is up to date.
inputs=$( {
    echo "$variant $base $torch [$extras] [$apt_packages]"
    "$engine" image inspect --format '{{.Id}}' "$base" 2>/dev/null || true
    cat Dockerfile .dockerignore requirements.lock
    git ls-files -z pyproject.toml README.md stages ledex sandbox flows review | xargs -0 sha256sum
} | sha256sum | cut -d' ' -f1)
if [[ $("$engine" image inspect --format '{{index .Labels "ledex.inputs"}}' "$image" 2>/dev/null) == "$inputs" ]]; then
    log "$image is up to date"
    exit 0
fi

# What the image installs: the project's requirements at the pins of requirements.lock, torch's
# CPU wheel where the host's pip finds it, and the project's own wheel.
log "preparing $work for $torch and .[$extras]"
rm -rf "$work"
mkdir -p "$work/wheels" "$work/dist"
grep -v '^torch==' requirements.lock >"$work/constraints.txt"
"$python" - "$extras" >"$work/requirements.txt" <<'PY'
import sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = [name for name in sys.argv[1].split(",") if name]
print("\n".join(project["dependencies"] + [req for name in extras for req in project["optional-dependencies"][name]]))
PY
sed -i "s/^torch==.*/$torch/" "$work/requirements.txt"
if [[ $variant == cpu ]]; then
    "$python" -m pip download -q --no-deps --only-binary=:all: --dest "$work/wheels" "$torch"
fi
"$python" -m pip wheel -q --no-deps --wheel-dir "$work/dist" .

log "building $image on $base"
previous=$("$engine" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
"$engine" build --quiet \
    --build-arg BASE="$base" --build-arg APT_PACKAGES="$apt_packages" --secret id=ca,src="$ca_bundle" \
    --label ledex.inputs="$inputs" --tag "$image" . >/dev/null
if [[ -n $previous && $previous != $("$engine" image inspect --format '{{.Id}}' "$image") ]]; then
    "$engine" image rm "$previous" >/dev/null 2>&1 || true  # still used by another tag or container
fi
log "built $image ($("$engine" image inspect --format '{{.Size}}' "$image" | numfmt --to=iec))"
