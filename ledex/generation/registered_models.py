"""Versions of the MLflow model registry as local checkpoints: `models:/<name>/<version>` and
`models:/<name>@<alias>`.

A version that `ledex.evaluation.registry.register` made is a pyfunc model whose `checkpoint`
artifact is the Hugging Face checkpoint; its MLmodel file says where inside the model that
artifact lies. Only that directory is downloaded, once per version, into the model cache
(`<cache>/registry/<name>/<version>-<source digest>`: two stores' v3 never share a directory).
An alias is looked up each time it is resolved: the version it points to changes.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

CHECKPOINT_ARTIFACT = "checkpoint"  # the pyfunc artifact holding the Hugging Face checkpoint
SCHEME = "models:/"
_REFERENCE = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>\d+)|@(?P<alias>[\w-]+))$")


class RegistryError(RuntimeError):
    """A `models:/` reference the registry cannot answer: no such model, version or checkpoint."""


@dataclass(frozen=True)
class RegisteredModelReference:
    """A registered model's version, by number or by alias (exactly one of them)."""

    name: str
    version: str | None = None
    alias: str | None = None

    @classmethod
    def parse(cls, text: str) -> RegisteredModelReference:
        match = _REFERENCE.match(text)
        if match is None:
            raise RegistryError(f"{text!r} is not models:/<name>/<version> or models:/<name>@<alias>")
        return cls(**match.groupdict())

    @property
    def uri(self) -> str:
        return f"{SCHEME}{self.name}/{self.version}" if self.version else f"{SCHEME}{self.name}@{self.alias}"


def is_registered_model(text: str) -> bool:
    return text.startswith(SCHEME)


def aliased_version(name: str, alias: str, registry_uri: str) -> str | None:
    """The version `alias` points to, or None when the model or the alias does not exist (yet)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        aliases = MlflowClient(tracking_uri=registry_uri, registry_uri=registry_uri).get_registered_model(name).aliases
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        return None
    return str(aliases[alias]) if alias in aliases else None


def registered_checkpoint(reference: str, registry_uri: str, cache: Path) -> Path:
    """The local checkpoint directory of the version `reference` names, downloaded on first use."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    ref = RegisteredModelReference.parse(reference)
    version = ref.version or aliased_version(ref.name, ref.alias, registry_uri)
    if version is None:
        raise RegistryError(f"{reference}: {ref.name} has no version with alias {ref.alias!r} in {registry_uri}")
    try:
        source = MlflowClient(tracking_uri=registry_uri, registry_uri=registry_uri).get_model_version(ref.name, version)
    except MlflowException as error:
        raise RegistryError(f"{reference}: {error.message} in {registry_uri}") from None
    digest = hashlib.sha256(source.source.encode()).hexdigest()[:12]
    checkpoint = cache / "registry" / ref.name / f"{version}-{digest}"
    return checkpoint if checkpoint.is_dir() else _download(ref.name, version, registry_uri, checkpoint)


def _download(name: str, version: str, registry_uri: str, checkpoint: Path) -> Path:
    """The version's checkpoint artifact, downloaded beside `checkpoint` and renamed into place
    last, under a file lock (as `ledex.generation.models.convert_preset`)."""
    import mlflow
    from mlflow.models import Model

    model_uri = f"{SCHEME}{name}/{version}"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(checkpoint.parent / f".{checkpoint.name}.lock"):
        if checkpoint.is_dir():
            return checkpoint
        with tempfile.TemporaryDirectory(prefix=f".{checkpoint.name}.", dir=checkpoint.parent) as scratch:
            stores = {"tracking_uri": registry_uri, "registry_uri": registry_uri}
            mlmodel = mlflow.artifacts.download_artifacts(f"{model_uri}/MLmodel", dst_path=scratch, **stores)
            artifacts = Model.load(mlmodel).flavors.get("python_function", {}).get("artifacts", {})
            if CHECKPOINT_ARTIFACT not in artifacts:
                raise RegistryError(f"{model_uri} has no {CHECKPOINT_ARTIFACT!r} artifact: not a ledex debugger")
            inside = artifacts[CHECKPOINT_ARTIFACT]["path"]
            staged = mlflow.artifacts.download_artifacts(
                f"{model_uri}/{inside}", dst_path=str(Path(scratch) / "download"), **stores
            )
            Path(staged).rename(checkpoint)
    return checkpoint
