"""the audit log keeps its user, village and household ids without foreign keys

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 16:30:00

The log is a record of what happened, written only by the code that did it, with ids it
had just read. Nothing deletes a user, a village or a household (they are deactivated),
so the three foreign keys never refused anything; they only made PostgreSQL look up and
key-share lock the referenced rows for every row logged: 70% of writing the 50,000 log
rows of a points import. The ids stay, indexed as before.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

REFERENCES = (("user_id", "users"), ("village_id", "villages"), ("household_id", "households"))


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        for column, table in REFERENCES:
            batch_op.drop_constraint(f'fk_audit_log_{column}_{table}', type_='foreignkey')


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        for column, table in REFERENCES:
            batch_op.create_foreign_key(f'fk_audit_log_{column}_{table}', table, [column], ['id'])
