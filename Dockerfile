# The image that runs ledex stages in containers: `dvc repro --single-item <stage>` in the
# project directory mounted at the same path as on the host (docs/containers.md).
#
# Build it with scripts/build_image.sh, which prepares build/image/ (the pins, torch's wheel, the
# project's wheel) and passes the host's CA bundle.
# BASE selects the variant:
#   CPU  localhost/ledex-base:bookworm   a Debian rootfs made by debootstrap and `podman import`
#   GPU  nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04 (or another CUDA runtime image): it comes
#        from a registry, which must be reachable where the image is built
# The base needs apt and a package python3.11 (Debian 12, Ubuntu 22.04 universe).
ARG BASE=localhost/ledex-base:bookworm
FROM ${BASE}

# More Debian packages, e.g. the MultiPL-E toolchains the sandbox runs:
# "default-jdk-headless libjavatuples-java g++ nodejs".
ARG APT_PACKAGES=""
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        python3.11 python3.11-venv git bubblewrap ca-certificates ${APT_PACKAGES} \
    && rm -rf /var/lib/apt/lists/* \
    && { [ -e /usr/bin/python3 ] || ln -s python3.11 /usr/bin/python3; } \
    && git config --system --add safe.directory '*' \
    && python3.11 -m venv /opt/venv

# Dependencies first: this layer is rebuilt only when the pins change. pip resolves for the
# image's own Python (its markers may differ from the host's), through the host's proxy and CA
# bundle (secret "ca"), with pip's cache kept outside the image between builds and torch's
# wheel taken from build/image/wheels when the host provided it (the CPU build).
COPY build/image/requirements.txt build/image/constraints.txt /opt/ledex/
RUN --mount=type=bind,source=build/image/wheels,target=/wheels \
    --mount=type=cache,target=/root/.cache/pip \
    --mount=type=secret,id=ca \
    PIP_CERT=/run/secrets/ca pip install --find-links /wheels \
        -r /opt/ledex/requirements.txt -c /opt/ledex/constraints.txt

# The project itself (stages, ledex, sandbox, flows, review). Stages run from the mounted checkout, which comes
# first on sys.path; this copy is what Prefect's flow runs import.
COPY build/image/dist/ /opt/ledex/dist/
RUN pip install --no-cache-dir --no-index --no-deps /opt/ledex/dist/*.whl

# Run in the mounted project: podman run -v "$PWD:$PWD" -w "$PWD" IMAGE dvc repro --single-item sample
CMD ["dvc", "repro"]
