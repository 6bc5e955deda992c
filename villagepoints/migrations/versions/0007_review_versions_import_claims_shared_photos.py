"""entry version counter, import claims, photo files shared by many entries

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.JSON(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_claims_created_by_id_users')),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_import_claims_village_id_villages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_claims')),
    sa.UniqueConstraint('token', name=op.f('uq_import_claims_token'))
    )
    with op.batch_alter_table('import_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_claims_village_id'), ['village_id'], unique=False)

    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    # A bulk entry's photo is one file named by every household's entry.
    with op.batch_alter_table('entry_photos', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_entry_photos_stored_name'), type_='unique')
        batch_op.create_index(batch_op.f('ix_entry_photos_stored_name'), ['stored_name'], unique=False)


def downgrade():
    with op.batch_alter_table('entry_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_photos_stored_name'))
        batch_op.create_unique_constraint(batch_op.f('uq_entry_photos_stored_name'), ['stored_name'])

    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('import_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_claims_village_id'))

    op.drop_table('import_claims')
