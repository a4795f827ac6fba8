"""The review database: migrations build the declared schema; accounts; items from the pipeline."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session

from ledex.pipeline.jsonl import read_jsonl, write_jsonl
from ledex.pipeline.paths import TRAJECTORIES
from ledex.problems import Problem
from review.accounts import add_reviewer, authenticate, hash_password, verify_password
from review.db import Base, Item, Judgment, database_exists, open_engine
from review.items import load_pipeline_items
from review.listing import natural_key
from review.migrations import upgrade

from .conftest import FIXED, SEVERITY


def test_migrations_build_exactly_the_declared_schema(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'r.db'}")
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    upgrade(engine)  # at head already: a second upgrade changes nothing
    assert set(inspect(engine).get_table_names()) == {*Base.metadata.tables, "alembic_version"}


def test_a_missing_sqlite_file_is_no_database(tmp_path):
    assert not database_exists(f"sqlite:///{tmp_path / 'absent.db'}")
    assert database_exists("postgresql+psycopg://reviewer@db.example/review")


def test_passwords_are_salted_scrypt_hashes():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", first) and not verify_password("correct hose", first)


def test_only_the_right_password_signs_in():
    engine = create_engine("sqlite://")
    upgrade(engine)
    with Session(engine) as session:
        add_reviewer(session, "ada", "long enough")
        assert authenticate(session, "ada", "long enough").name == "ada"
        assert authenticate(session, "ada", "wrong password") is None
        assert authenticate(session, "nobody", "long enough") is None


def test_items_carry_the_context_a_reviewer_needs(review_db, tmp_path):
    engine = create_engine(review_db)
    with Session(engine) as session:
        item = session.get(Item, "P/0#s0#er0")
        assert (item.kind, item.code, item.passed, item.severity) == ("explain_refine", FIXED, True, "wrong_answer")
        assert item.answer.startswith("Explanation: Every element") and FIXED.strip() in item.answer
        assert "assert has_close" in item.feedback and item.wrong_code.startswith("def has_close")
        assert item.messages[2]["role"] == "assistant" and "explain" in item.messages[3]["content"]
        assert session.get(Item, "P/0#s1#er0").severity == "runtime"
        assert (
            load_pipeline_items(session, SEVERITY, tmp_path, tmp_path / TRAJECTORIES) == 0
        )  # loaded items are not added twice


def test_items_keep_their_problem_whose_tests_check_corrections(review_db):
    with Session(create_engine(review_db)) as session:
        problem = Problem.from_dict(session.get(Item, "P/0#s0#er0").problem)
    assert problem.entry_point == "has_close" and len(problem.test_cases) == 2


def test_load_takes_refinements_from_another_file_of_the_same_shape(review_db, tmp_path):
    champion = tmp_path / "champion.jsonl"
    [row] = [r for r in read_jsonl(tmp_path / "data/verify/trajectories.jsonl") if r["id"] == "P/0#s0#r0"]
    write_jsonl(champion, [{**row, "id": "P/0#s0#champion"}, {**row, "id": "P/0#s0#bad", "problem_id": "P/9"}])
    with (
        Session(create_engine(review_db)) as session,
        pytest.raises(ValueError, match=r"row 2: P/0#s0#bad: problem P/9"),
    ):
        load_pipeline_items(session, SEVERITY, source=champion)
    write_jsonl(champion, [{**row, "id": "P/0#s0#champion"}])
    with Session(create_engine(review_db)) as session:
        assert load_pipeline_items(session, SEVERITY, source=champion) == 1
        assert session.get(Item, "P/0#s0#champion").code == FIXED


def test_item_ids_sort_naturally():
    ids = ["HumanEval/10#s0#r0", "HumanEval/2#s10#r0", "HumanEval/2#s9#r0", "MBPP/1#s0#r0"]
    assert sorted(ids, key=natural_key) == ["HumanEval/2#s9#r0", "HumanEval/2#s10#r0", "HumanEval/10#s0#r0", ids[-1]]


def test_a_first_revision_database_upgrades_with_its_judgments(review_db, tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0001")
    with Session(create_engine(review_db)) as source:
        item = {c.key: getattr(source.get(Item, "P/0#s0#er0"), c.key) for c in Item.__table__.columns}
    item = {key: value for key, value in item.items() if key != "problem"}
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO reviewers (name, created_at) VALUES ('ada', '2026-01-01')"))
        connection.execute(Item.__table__.insert().values(**item))  # the columns of revision 0001
        connection.execute(
            text(
                "INSERT INTO judgments (item_id, reviewer_id, correctness, clarity, usefulness, vote, hallucination,"
                " severity, corrected_explanation, corrected_code, created_at)"
                " VALUES ('P/0#s0#er0', 1, 4, 4, 4, 1, '', 'runtime', '', 'pass', '2026-01-01')"
            )
        )
    upgrade(engine)
    with Session(engine) as session:
        judgment = session.get(Judgment, 1)
        assert (judgment.correction_status, judgment.correction_message, judgment.item.problem) == (None, "", None)
