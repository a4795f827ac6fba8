"""dvc.yaml cannot drift from the code: every module a stage imports, at any depth and also inside
functions, lies under one of the stage's deps, and every artifact path is declared in
`ledex.pipeline.paths`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from ledex.pipeline import paths

REPO = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("stages", "ledex", "sandbox", "review", "flows")
STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def module_file(name: str) -> Path | None:
    """The source file of first-party module `name`, or None when it is not one."""
    if name.split(".")[0] not in FIRST_PARTY:
        return None
    base = REPO.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_files(path: Path) -> set[Path]:
    """The first-party files `path` imports directly, with the packages that hold them."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
                file = module_file(".".join(parts[:depth]))
                if file is not None:
                    found.add(file)
    return found


def import_closure(entry: Path) -> set[Path]:
    """Every first-party file that running `entry` can import."""
    seen, todo = set(), [entry]
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(imported_files(path))
    return seen


def uncovered(entry: Path, deps: list[str]) -> list[str]:
    """The files of `entry`'s import closure that no dep (a file or a folder) covers."""
    roots = [REPO / dep for dep in deps]
    return sorted(
        str(file.relative_to(REPO))
        for file in import_closure(entry)
        if not any(file == root or root in file.parents for root in roots)
    )


def stage_entry(stage: dict) -> Path:
    module = stage["cmd"].removeprefix("python -m ").split()[0]
    return module_file(module)


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_module_a_stage_imports_is_one_of_its_deps(name):
    stage = STAGES[name]
    assert stage_entry(stage) == REPO / "stages" / f"{name.replace('-', '_')}.py"  # stage name = stages/<name>.py
    assert uncovered(stage_entry(stage), stage["deps"]) == []


def test_a_helper_left_out_of_the_deps_is_reported():
    # the drift this test exists for: verify runs code through ledex/execution without listing it
    deps = [dep for dep in STAGES["verify"]["deps"] if dep != "ledex/execution"]
    missing = uncovered(REPO / "stages/verify.py", deps)
    assert "ledex/execution/jobs.py" in missing and "ledex/execution/completions.py" in missing


def test_imports_inside_functions_count():
    closure = import_closure(REPO / "stages/reward_fit.py")
    assert REPO / "ledex/training/reward_plots.py" in closure  # imported lazily, inside run()


def test_stages_folder_holds_exactly_the_stages():
    modules = {path.stem for path in (REPO / "stages").glob("*.py")} - {"__init__"}
    assert modules == {name.replace("-", "_") for name in STAGES}
    assert not [path for path in (REPO / "stages").iterdir() if path.is_dir() and path.name != "__pycache__"]


def test_no_module_imports_a_stage():
    for path in REPO.glob("*/**/*.py"):
        if path.parts[len(REPO.parts)] in ("stages", "tests", ".venv"):
            continue
        stages = [file for file in imported_files(path) if file.parent == REPO / "stages"]
        assert not stages, f"{path.relative_to(REPO)} imports stage entry points {stages}"


def test_artifact_paths_in_dvc_yaml_are_declared_in_the_paths_module():
    declared = {str(value) for value in vars(paths).values() if isinstance(value, Path)}
    for name, stage in STAGES.items():
        artifacts = [dep for dep in stage["deps"] if dep.startswith(("data/", "models/"))]
        artifacts += [next(iter(out)) if isinstance(out, dict) else out for out in stage.get("outs", [])]
        for artifact in artifacts:
            assert artifact in declared, f"dvc.yaml stage {name}: {artifact} is not in ledex/pipeline/paths.py"


def test_every_stage_that_loads_the_policy_depends_on_its_pin():
    pin = str(paths.POLICY)
    loaders = {name for name in STAGES if "use_policy(" in stage_entry(STAGES[name]).read_text()}
    assert loaders == {"sample", "answer-tasks", "sft", "evaluate"}
    for name in loaders:
        assert pin in STAGES[name]["deps"], f"dvc.yaml stage {name} loads the policy without depending on {pin}"
        assert "models.policy" not in STAGES[name].get("params", []), f"{name}: the pin, not the param, says"
    resolver = STAGES["resolve-policy"]
    assert resolver["always_changed"] and [next(iter(m)) for m in resolver["metrics"]] == [pin]
