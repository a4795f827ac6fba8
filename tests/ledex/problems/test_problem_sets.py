import pytest

from ledex.pipeline.config import DataParams, ProblemSetSpec
from ledex.problems import BenchmarkDataError, EvaluationOnlyError
from ledex.problems.problem_sets import evaluation_sets, training_problems


def data(train, evaluate):
    return DataParams(
        train=tuple(ProblemSetSpec(**spec) for spec in train),
        evaluate=tuple(ProblemSetSpec(**spec) for spec in evaluate),
    )


def test_default_split_of_humaneval_is_disjoint():
    params = data([{"benchmark": "humaneval", "problems": "0:40"}], [{"benchmark": "humaneval", "problems": "40:"}])
    train = training_problems(params)
    held_out = evaluation_sets(params)["humaneval"]
    assert [p.id for p in train][:2] == ["HumanEval/0", "HumanEval/1"] and len(train) == 40
    assert len(held_out) == 124 and not {p.id for p in train} & {p.id for p in held_out}


def test_overlap_between_train_and_evaluate_is_refused():
    params = data([{"benchmark": "humaneval", "problems": "0:10"}], [{"benchmark": "humaneval", "problems": "5:"}])
    with pytest.raises(ValueError, match="overlap in 5 problems"):
        training_problems(params)


def test_evaluation_only_benchmarks_are_never_trained_on():
    params = data([{"benchmark": "multipl-e-humaneval-js"}], [])
    with pytest.raises(EvaluationOnlyError, match="evaluation only"):
        training_problems(params)


def test_bad_slice_is_named():
    with pytest.raises(ValueError, match="expected a slice"):
        ProblemSetSpec(benchmark="humaneval", problems="first ten")


def test_a_set_marked_if_present_is_skipped_without_its_file(tmp_path, caplog):
    train = [{"benchmark": "humaneval", "problems": "0:2"}, {"benchmark": "apps", "split": "train", "if_present": True}]
    params = data(train, []).model_copy(update={"dir": tmp_path})
    assert [p.id for p in training_problems(params)] == ["HumanEval/0", "HumanEval/1"]
    assert f"apps/train: skipped, as if_present allows: no {tmp_path / 'apps/train.jsonl'}" in caplog.text
    required = data([{"benchmark": "apps", "split": "train"}], []).model_copy(update={"dir": tmp_path})
    with pytest.raises(BenchmarkDataError, match="apps/train.jsonl not found"):
        training_problems(required)
