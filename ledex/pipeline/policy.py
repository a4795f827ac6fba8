"""The policy a cycle trains from, pinned once per cycle so that DVC sees when it changes.

`models.policy` (or `$LEDEX_POLICY`, set from the flow's `policy` parameter: the weekly
deployment's is `models:/ledex-debugger@champion`) may name a registry alias. Its version moves
when `evaluate` promotes a new champion while params.yaml stays the same, so no stage's params
or deps would change. The cycle's first stage, `resolve-policy` (always run), therefore pins it
in `metrics/resolve_policy.json`: an alias becomes the version it names (`models:/ledex-debugger/3`),
or `models.base` while it names none (the first cycle). `sample`, `sft` and `evaluate` depend on
that file: a new champion changes it and reruns them and what follows them; the same champion
leaves the cycle up to date.

Each of those stages calls `use_policy`: it reads the pin, puts the policy's local checkpoint
(a registered version downloaded into the model cache) in `models.policy`, says on stderr where
the policy comes from, and tags its MLflow run (`ledex.pipeline.lineage`).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass

from ledex.generation.registered_models import RegisteredModelReference, aliased_version, is_registered_model
from ledex.pipeline.config import ModelsParams, Params
from ledex.pipeline.lineage import POLICY_SOURCE_TAG, POLICY_TAG
from ledex.pipeline.paths import POLICY
from ledex.pipeline.tracking import tracking_uri

POLICY_ENV = "LEDEX_POLICY"  # overrides models.policy; the flow sets it from its `policy` parameter


@dataclass(frozen=True)
class Policy:
    requested: str  # $LEDEX_POLICY or models.policy, as written
    model: str  # what the stages load: a preset, path or Hub id, or a version models:/<name>/<version>
    source: str  # the same in words, for logs and the run's ledex.policy_source tag
    fallback: bool = False  # True: the requested alias names no version yet, so this is models.base

    @property
    def parent(self) -> str:
        """How a version trained from this policy names its parent: models:/<name>/<version> or base:<model>."""
        return self.model if is_registered_model(self.model) else f"base:{self.model}"


def requested_policy(models: ModelsParams) -> str:
    return os.environ.get(POLICY_ENV) or models.policy


def resolve_policy(models: ModelsParams, registry_uri: str) -> Policy:
    """The requested policy with an alias replaced by its version, or by `models.base` when it has none."""
    requested = requested_policy(models)
    if not is_registered_model(requested):
        return Policy(requested, requested, requested)
    ref = RegisteredModelReference.parse(requested)
    if ref.version:
        return Policy(requested, requested, f"{ref.name} v{ref.version}")
    version = aliased_version(ref.name, ref.alias, registry_uri)
    if version is None:
        return Policy(requested, models.base, f"base {models.base} (no {ref.name}@{ref.alias} yet)", fallback=True)
    return Policy(requested, RegisteredModelReference(ref.name, version).uri, f"{ref.name} v{version} ({ref.alias})")


def pinned_policy() -> Policy | None:
    """The policy `resolve-policy` pinned (None before it ran), whatever `models.policy` says now."""
    return Policy(**json.loads(POLICY.read_text())) if POLICY.exists() else None


def current_policy(params: Params) -> Policy:
    """The policy `resolve-policy` pinned, when it pinned the one requested now; else resolved now
    (a stage run by hand)."""
    pinned = pinned_policy()
    if pinned is not None and pinned.requested == requested_policy(params.models):
        return pinned
    return resolve_policy(params.models, tracking_uri(params.tracking.uri))


def announce(policy: Policy, stage: str) -> None:
    """Say where the policy comes from on stderr (a warning for `models.base` standing in) and
    in the tags of the active MLflow run."""
    import mlflow  # slow to import; only what tracks needs it

    warning = "warning: " if policy.fallback else ""
    print(f"{stage}: {warning}policy {policy.source} (requested: {policy.requested})", file=sys.stderr)
    if mlflow.active_run():
        mlflow.set_tags({POLICY_TAG: policy.parent, POLICY_SOURCE_TAG: policy.source})


def use_policy(params: Params, stage: str) -> Params:
    """`params` with `models.policy` set to the current policy's local checkpoint (or its preset
    name, path or Hub id), announced."""
    from ledex.generation.models import resolve_model  # torch: not for resolve-policy

    policy = current_policy(params)
    announce(policy, stage)
    model = policy.model
    if is_registered_model(model):
        model = str(resolve_model(model, tracking_uri(params.tracking.uri)))
    return params.model_copy(update={"models": params.models.model_copy(update={"policy": model})})
