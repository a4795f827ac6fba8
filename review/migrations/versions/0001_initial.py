"""Reviewers, items, judgments, export batches and settings."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "reviewers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(256), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.String(256), primary_key=True),
        sa.Column("problem_id", sa.String(256), nullable=False),
        sa.Column("sample_id", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("language", sa.String(32), nullable=False),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("wrong_code", sa.Text(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(64), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("pass_rate", sa.Float(), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_items_sample_id", "items", ["sample_id"])
    op.create_table(
        "judgments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.String(256), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), sa.ForeignKey("reviewers.id"), nullable=False),
        sa.Column("correctness", sa.Integer(), nullable=False),
        sa.Column("clarity", sa.Integer(), nullable=False),
        sa.Column("usefulness", sa.Integer(), nullable=False),
        sa.Column("vote", sa.Integer(), nullable=False),
        sa.Column("hallucination", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(64), nullable=False),
        sa.Column("corrected_explanation", sa.Text(), nullable=False),
        sa.Column("corrected_code", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("correctness BETWEEN 1 AND 5", name="correctness_grade"),
        sa.CheckConstraint("clarity BETWEEN 1 AND 5", name="clarity_grade"),
        sa.CheckConstraint("usefulness BETWEEN 1 AND 5", name="usefulness_grade"),
        sa.CheckConstraint("vote IN (-1, 0, 1)", name="vote_value"),
    )
    op.create_index("ix_judgments_item_reviewer", "judgments", ["item_id", "reviewer_id"])
    op.create_table(
        "export_batches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("watermark", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in ("settings", "export_batches", "judgments", "items", "reviewers"):
        op.drop_table(table)
