"""village public titles of the red and black lists; an entry names the rejected entry it resubmits

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 09:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('villages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('red_list_title', sa.String(length=10), server_default='光荣榜', nullable=False))
        batch_op.add_column(sa.Column('black_list_title', sa.String(length=10), server_default='臊皮榜', nullable=False))
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resubmits_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_entries_resubmits_id'), ['resubmits_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_entries_resubmits_id_entries'), 'entries', ['resubmits_id'], ['id'])


def downgrade():
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_entries_resubmits_id_entries'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_entries_resubmits_id'))
        batch_op.drop_column('resubmits_id')
    with op.batch_alter_table('villages', schema=None) as batch_op:
        batch_op.drop_column('black_list_title')
        batch_op.drop_column('red_list_title')
