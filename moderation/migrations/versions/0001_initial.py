"""Initial schema: moderators, items, item_techniques, decisions (append-only), source_texts.

Revision ID: 0001_initial
Revises:
Create Date: 2025-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION decisions_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'decisions are append-only (the audit trail): % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER decisions_no_update BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION decisions_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "moderators",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("page_id", sa.String(512), nullable=False, unique=True),
        sa.Column("url", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("originality", sa.Float, nullable=False),
        sa.Column("quality", sa.Float, nullable=False),
        sa.Column("risk", sa.Float, nullable=False),
        sa.Column("priority", sa.Float, nullable=False),
        sa.Column("verdict", sa.String(16)),
        sa.Column("signals", sa.JSON, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("source", sa.JSON),
        sa.Column("model_name", sa.String(100)),
        sa.Column("model_version", sa.String(50)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("label", sa.String(8)),
        sa.Column("techniques", sa.JSON),
        sa.Column("decided_by", sa.String(100)),
        sa.Column("decided_at", sa.DateTime),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("lease_token", sa.String(64)),
        sa.Column("lease_expires_at", sa.DateTime),
        sa.Column("last_decision_id", sa.Integer),
        sa.Column("skip_count", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_items_status_priority", "items", ["status", "priority"])
    op.create_index("ix_items_created_at", "items", ["created_at"])
    op.create_index("ix_items_risk", "items", ["risk"])
    op.create_index("ix_items_claimed_by", "items", ["claimed_by"])
    op.create_table(
        "item_techniques",
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("technique", sa.String(64), primary_key=True),
        sa.Column("strength", sa.Float, nullable=False),
    )
    op.create_index("ix_item_techniques_technique", "item_techniques", ["technique"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("page_id", sa.String(512), nullable=False),
        sa.Column("moderator", sa.String(100), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("techniques", sa.JSON),
        sa.Column("lease_token", sa.String(64)),
        sa.Column("undoes_id", sa.Integer, sa.ForeignKey("decisions.id"), unique=True),
        sa.Column("model_name", sa.String(100)),
        sa.Column("model_version", sa.String(50)),
        sa.Column("risk", sa.Float),
        sa.Column("originality", sa.Float),
        sa.Column("quality", sa.Float),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("item_id", "lease_token", name="uq_decisions_item_lease"),
    )
    op.create_index("ix_decisions_moderator_id", "decisions", ["moderator", "id"])
    op.create_index("ix_decisions_item_id", "decisions", ["item_id"])
    op.create_table(
        "source_texts",
        sa.Column("source_id", sa.String(512), primary_key=True),
        sa.Column("url", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    # The log is the audit trail: the database itself refuses to rewrite it.
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_APPEND_ONLY)
    elif dialect == "sqlite":
        for what in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER decisions_no_{what.lower()} BEFORE {what} ON decisions "
                       f"BEGIN SELECT RAISE(ABORT, 'decisions are append-only (the audit "
                       f"trail): {what} refused'); END")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS decisions_no_update ON decisions")
        op.execute("DROP FUNCTION IF EXISTS decisions_append_only()")
    for name in ("source_texts", "decisions", "item_techniques", "items", "moderators"):
        op.drop_table(name)
