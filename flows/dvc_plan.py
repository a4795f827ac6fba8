"""Which DVC stages `dvc repro [targets]` visits, in its order, by DVC's own planner.

The flow runs these one at a time with `dvc repro --single-item`, so a subset of targets brings
its upstream stages along exactly as `dvc repro target` would, and DVC still decides what is
up to date.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PlannedStage:
    address: str  # what `dvc repro` accepts: `name`, `sub/dvc.yaml:name` or `data.dvc`
    metrics: tuple[Path, ...]  # the stage's metrics files, relative to the project root

    @property
    def name(self) -> str:
        return self.address.rpartition(":")[2]


def plan_stages(root: Path, targets: list[str] | None = None) -> list[PlannedStage]:
    """The stages `dvc repro` would visit for `targets` (all of dvc.yaml when none), upstream
    first. Targets are read as `dvc repro` reads them in `root`, whatever the current directory."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo
    from dvc.repo.reproduce import collect_stages, get_active_graph, plan_repro

    with Repo(str(root)) as repo:
        try:
            stages = collect_stages(repo, [_in_root(target, root) for target in targets or [""]])
            steps = plan_repro(get_active_graph(repo.index.graph), stages)
        except DvcException as err:  # an unknown target, a broken dvc.yaml
            raise ValueError(str(err)) from None
        return [PlannedStage(_address(stage, root), _metrics(stage, root)) for stage in steps]


def _in_root(target: str, root: Path) -> str:
    """`target` ("verify", "sub/dvc.yaml:name", "data.dvc"; "": dvc.yaml) with an absolute path."""
    from dvc.dvcfile import PROJECT_FILE
    from dvc.utils import parse_target

    path, name = parse_target(target) if target else (None, None)
    return str(root / (path or PROJECT_FILE)) + (f":{name}" if name else "")


def _metrics(stage, root: Path) -> tuple[Path, ...]:
    return tuple(Path(os.path.relpath(out.fs_path, root)) for out in stage.outs if out.metric)


def _address(stage, root: Path) -> str:
    from dvc.dvcfile import PROJECT_FILE
    from dvc.stage import PipelineStage

    file = os.path.relpath(stage.path, root)
    if not isinstance(stage, PipelineStage):
        return file
    return stage.name if file == PROJECT_FILE else f"{file}:{stage.name}"
