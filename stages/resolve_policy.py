"""Stage `resolve-policy`: pin the policy this cycle trains from (`ledex.pipeline.policy`).

`models.policy` (or the flow's `policy` parameter) may be a registry alias such as
`models:/ledex-debugger@champion`; the version it names now, or `models.base` while it names
none, is written down. DVC runs this stage every time (the registry lives outside it); the
stages that load the policy depend on its output and rerun only when the pinned policy changed.
Outputs: `metrics/resolve_policy.json` (`ledex.pipeline.policy.Policy`).
"""

from __future__ import annotations

from dataclasses import asdict

from ledex.pipeline.config import Params, load_params
from ledex.pipeline.policy import announce, resolve_policy
from ledex.pipeline.stage_io import publish_metrics
from ledex.pipeline.tracking import stage_run, tracking_uri


def run(params: Params) -> dict:
    policy = resolve_policy(params.models, tracking_uri(params.tracking.uri))
    announce(policy, "resolve-policy")
    return asdict(policy)


def main() -> None:
    params = load_params()
    with stage_run("resolve-policy", {"models": params.models.model_dump()}, params.tracking.uri):
        publish_metrics("resolve_policy", run(params))


if __name__ == "__main__":
    main()
