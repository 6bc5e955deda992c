"""household cards (户码) and rules open to applications

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'household_cards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('village_id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('issued_at', sa.DateTime(), nullable=False),
        sa.Column('issued_by_name', sa.String(length=50), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_cards_household_id_households')),
        sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_household_cards_village_id_villages')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_household_cards')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_household_cards_token_hash')),
    )
    with op.batch_alter_table('household_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_cards_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_cards_village_id'), ['village_id'], unique=False)
        batch_op.create_index(
            'uq_household_cards_live', ['household_id'], unique=True,
            sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'),
        )

    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_to_applications', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.drop_column('open_to_applications')

    with op.batch_alter_table('household_cards', schema=None) as batch_op:
        batch_op.drop_index('uq_household_cards_live')
        batch_op.drop_index(batch_op.f('ix_household_cards_village_id'))
        batch_op.drop_index(batch_op.f('ix_household_cards_household_id'))

    op.drop_table('household_cards')
