"""townships: villages grouped under a township, township users

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'townships',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('slug', sa.String(length=50), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_townships')),
        sa.UniqueConstraint('slug', name=op.f('uq_townships_slug')),
    )
    with op.batch_alter_table('villages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('township_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_villages_township_id'), ['township_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_villages_township_id_townships'), 'townships', ['township_id'], ['id']
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('township_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_township_id'), ['township_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_users_township_id_townships'), 'townships', ['township_id'], ['id']
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_township_id_townships'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_township_id'))
        batch_op.drop_column('township_id')
    with op.batch_alter_table('villages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_villages_township_id_townships'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_villages_township_id'))
        batch_op.drop_column('township_id')
    op.drop_table('townships')
