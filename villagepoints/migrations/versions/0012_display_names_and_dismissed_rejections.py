"""records written before display names name people by them; a rejected entry its clerk will not correct

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 11:00:00

Names are copied into the rows they sign when written (录入人, 审核人, 经手人, "由…发布",
the audit log). Rows written before display names existed hold login names: they are
rewritten to the user's display name, by the user id where the row keeps one, else by
matching the stored name against users.username. A name that is not a login name
(命令行, a household's own) is left as it is.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# (table, name column, user id column or None)
SIGNED_COLUMNS = (
    ('entries', 'created_by_name', 'created_by_id'),
    ('entries', 'reviewed_by_name', 'reviewed_by_id'),
    ('stock_movements', 'created_by_name', 'created_by_id'),
    ('redemptions', 'created_by_name', 'created_by_id'),
    ('redemptions', 'voided_by_name', 'voided_by_id'),
    ('audit_log', 'actor', 'user_id'),
    ('publications', 'published_by_name', None),
    ('objections', 'recorded_by_name', None),
    ('objections', 'answered_by_name', None),
    ('household_cards', 'issued_by_name', None),
)


def rewrite_login_names(connection) -> None:
    """Replace stored login names by the users' display names (users without one keep theirs)."""
    named = "u.display_name <> '' AND u.display_name <> u.username"
    for table, name, user_id in SIGNED_COLUMNS:
        if user_id:
            match = f"u.id = {table}.{user_id} AND u.username = {table}.{name}"
        else:
            match = f"u.username = {table}.{name}"
        connection.execute(sa.text(
            f"UPDATE {table} SET {name} = (SELECT u.display_name FROM users u WHERE {match}) "
            f"WHERE EXISTS (SELECT 1 FROM users u WHERE {match} AND {named})"
        ))


def upgrade():
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dismissed_at', sa.DateTime(), nullable=True))
    rewrite_login_names(op.get_bind())


def downgrade():
    # The display names stay: the login names they replaced are not kept anywhere.
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_column('dismissed_at')
