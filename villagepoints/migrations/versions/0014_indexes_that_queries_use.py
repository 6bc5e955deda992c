"""indexes that queries use: entries by village and clerk; entries' rare links indexed where present; households' name indexes dropped

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 16:00:00

The clerk filter of the entry list and the review queue names who has entered points in
the village: ``ix_entries_village_creator`` answers it from the index alone instead of
grouping every entry.

``reverses_id``, ``resubmits_id`` and ``submit_token`` are empty on nearly every entry (an
imported one never has them), yet each full index took an entry per row: a third of the
index work of a 50,000-row points import. Every query on them compares a value
(``reverses_id = ?``), which a partial index ``WHERE … IS NOT NULL`` serves on both
SQLite and PostgreSQL.

No query could use ``households.head_name`` or ``name_initials``: the register's search
matches a name anywhere (``LIKE '%张%'``), and its initials prefix sits in the same OR.
Both indexes only cost every household written.

Indexes only: SQLite's tables and the triggers on entries stay as they are.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

PRESENT_ONLY = ("reverses_id", "resubmits_id", "submit_token")
UNUSED = ("head_name", "name_initials")


def upgrade():
    op.create_index("ix_entries_village_creator", "entries", ["village_id", "created_by_id"])
    for column in PRESENT_ONLY:
        name = f"ix_entries_{column}"
        op.drop_index(name, table_name="entries")
        present = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "entries", [column], sqlite_where=present, postgresql_where=present)
    for column in UNUSED:
        op.drop_index(f"ix_households_{column}", table_name="households")


def downgrade():
    for column in UNUSED:
        op.create_index(f"ix_households_{column}", "households", [column])
    for column in PRESENT_ONLY:
        name = f"ix_entries_{column}"
        op.drop_index(name, table_name="entries")
        op.create_index(name, "entries", [column])
    op.drop_index("ix_entries_village_creator", table_name="entries")
