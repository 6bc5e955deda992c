"""each household's approved points per quarter, kept current by triggers on entries

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 13:00:00

``quarter_points`` holds, per household and quarter, the approved points from plus rules,
from minus rules, and the number of approved entries. Triggers on ``entries`` keep it in
step inside the writing transaction, whatever writes the entry (a form, a review, an
import, a restore that inserts rows): an entry counts while its status is ``approved``.
The table is filled from the entries already there.

SQLite has row triggers only; PostgreSQL gets statement triggers over transition tables,
so an import of 50,000 rows updates each household's row once.

A later migration that rebuilds ``entries`` in SQLite batch mode drops its triggers with
the old table: it must call ``create_triggers`` again (tests compare the kept rows with
a recomputation after every kind of write, so a lost trigger fails them).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

SQLITE_YEAR = "CAST(substr({row}.entry_date, 1, 4) AS INTEGER)"
SQLITE_QUARTER = "((CAST(substr({row}.entry_date, 6, 2) AS INTEGER) + 2) / 3)"
SQLITE_WATCHED = "status, points, kind, entry_date, household_id, village_id"


def _sqlite_add(row: str) -> str:
    year, quarter = SQLITE_YEAR.format(row=row), SQLITE_QUARTER.format(row=row)
    return f"""
        INSERT INTO quarter_points (household_id, year, quarter, village_id, plus, minus, entries)
        VALUES ({row}.household_id, {year}, {quarter}, {row}.village_id,
                CASE WHEN {row}.kind = 'plus' THEN {row}.points ELSE 0 END,
                CASE WHEN {row}.kind = 'minus' THEN {row}.points ELSE 0 END, 1)
        ON CONFLICT (household_id, year, quarter) DO UPDATE SET
            plus = plus + excluded.plus, minus = minus + excluded.minus, entries = entries + 1;"""


def _sqlite_take(row: str) -> str:
    year, quarter = SQLITE_YEAR.format(row=row), SQLITE_QUARTER.format(row=row)
    return f"""
        UPDATE quarter_points SET
            plus = plus - CASE WHEN {row}.kind = 'plus' THEN {row}.points ELSE 0 END,
            minus = minus - CASE WHEN {row}.kind = 'minus' THEN {row}.points ELSE 0 END,
            entries = entries - 1
        WHERE household_id = {row}.household_id AND year = {year} AND quarter = {quarter};"""


SQLITE_TRIGGERS = (
    ("quarter_points_on_insert",
     f"AFTER INSERT ON entries WHEN NEW.status = 'approved' BEGIN {_sqlite_add('NEW')} END"),
    # Taken out before being added back: an entry that stays approved moves between rows.
    ("quarter_points_on_update_take",
     f"AFTER UPDATE OF {SQLITE_WATCHED} ON entries WHEN OLD.status = 'approved' BEGIN {_sqlite_take('OLD')} END"),
    ("quarter_points_on_update_add",
     f"AFTER UPDATE OF {SQLITE_WATCHED} ON entries WHEN NEW.status = 'approved' BEGIN {_sqlite_add('NEW')} END"),
    ("quarter_points_on_delete",
     f"AFTER DELETE ON entries WHEN OLD.status = 'approved' BEGIN {_sqlite_take('OLD')} END"),
)

PG_YEAR = "EXTRACT(YEAR FROM {row}.entry_date)::int"
PG_QUARTER = "EXTRACT(QUARTER FROM {row}.entry_date)::int"
PG_SUMS = """sum(CASE WHEN {row}.kind = 'plus' THEN {row}.points ELSE 0 END) AS plus,
               sum(CASE WHEN {row}.kind = 'minus' THEN {row}.points ELSE 0 END) AS minus, count(*) AS entries"""
# On an update, rows whose counted fields did not change are left out on both sides, so
# approving one entry or editing an approved entry's note touches only what moved.
PG_SAME = """EXISTS (SELECT 1 FROM {other} x WHERE x.id = {row}.id AND x.status = 'approved'
            AND x.points = {row}.points AND x.kind = {row}.kind AND x.entry_date = {row}.entry_date
            AND x.household_id = {row}.household_id AND x.village_id = {row}.village_id)"""


def _pg_take(unchanged: str) -> str:
    return f"""
        UPDATE quarter_points q SET plus = q.plus - d.plus, minus = q.minus - d.minus, entries = q.entries - d.entries
        FROM (
            SELECT o.household_id, {PG_YEAR.format(row='o')} AS year, {PG_QUARTER.format(row='o')} AS quarter,
                   {PG_SUMS.format(row='o')}
            FROM old_rows o WHERE o.status = 'approved' {unchanged}
            GROUP BY 1, 2, 3
        ) d
        WHERE q.household_id = d.household_id AND q.year = d.year AND q.quarter = d.quarter;"""


def _pg_add(unchanged: str) -> str:
    return f"""
        INSERT INTO quarter_points (household_id, year, quarter, village_id, plus, minus, entries)
        SELECT n.household_id, {PG_YEAR.format(row='n')}, {PG_QUARTER.format(row='n')}, min(n.village_id),
               {PG_SUMS.format(row='n')}
        FROM new_rows n WHERE n.status = 'approved' {unchanged}
        GROUP BY 1, 2, 3
        -- Rows are locked in household order, as every action locks its households.
        ORDER BY 1, 2, 3
        ON CONFLICT (household_id, year, quarter) DO UPDATE SET
            plus = quarter_points.plus + EXCLUDED.plus,
            minus = quarter_points.minus + EXCLUDED.minus,
            entries = quarter_points.entries + EXCLUDED.entries;"""


# plpgsql plans a statement when it first runs it: each branch names only the transition
# tables its trigger has.
PG_FUNCTION = f"""
CREATE FUNCTION quarter_points_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_pg_add('')}
    ELSIF TG_OP = 'UPDATE' THEN
        {_pg_take('AND NOT ' + PG_SAME.format(other='new_rows', row='o'))}
        {_pg_add('AND NOT ' + PG_SAME.format(other='old_rows', row='n'))}
    ELSE
        {_pg_take('')}
    END IF;
    RETURN NULL;
END
$$
"""
PG_TRIGGERS = (
    ("quarter_points_on_insert", "AFTER INSERT ON entries REFERENCING NEW TABLE AS new_rows"),
    ("quarter_points_on_update", "AFTER UPDATE ON entries REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("quarter_points_on_delete", "AFTER DELETE ON entries REFERENCING OLD TABLE AS old_rows"),
)

FILL = {
    "sqlite": (SQLITE_YEAR.format(row="e"), SQLITE_QUARTER.format(row="e")),
    "postgresql": (PG_YEAR.format(row="e"), PG_QUARTER.format(row="e")),
}


def create_triggers(connection) -> None:
    """Create the triggers that keep quarter_points current (dropped first if there)."""
    drop_triggers(connection)
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text(PG_FUNCTION))
        for name, when in PG_TRIGGERS:
            connection.execute(sa.text(
                f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT EXECUTE FUNCTION quarter_points_keep()"
            ))
    else:
        for name, body in SQLITE_TRIGGERS:
            connection.execute(sa.text(f"CREATE TRIGGER {name} {body}"))


def drop_triggers(connection) -> None:
    if connection.dialect.name == "postgresql":
        for name, _when in PG_TRIGGERS:
            connection.execute(sa.text(f"DROP TRIGGER IF EXISTS {name} ON entries"))
        connection.execute(sa.text("DROP FUNCTION IF EXISTS quarter_points_keep()"))
    else:
        for name, _body in SQLITE_TRIGGERS:
            connection.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))


def fill(connection) -> None:
    """Sum the approved entries already written into quarter_points."""
    year, quarter = FILL[connection.dialect.name]
    connection.execute(sa.text("DELETE FROM quarter_points"))
    connection.execute(sa.text(f"""
        INSERT INTO quarter_points (household_id, year, quarter, village_id, plus, minus, entries)
        SELECT e.household_id, {year}, {quarter}, min(e.village_id),
               sum(CASE WHEN e.kind = 'plus' THEN e.points ELSE 0 END),
               sum(CASE WHEN e.kind = 'minus' THEN e.points ELSE 0 END),
               count(*)
        FROM entries e WHERE e.status = 'approved'
        GROUP BY e.household_id, {year}, {quarter}
    """))


def upgrade():
    op.create_table(
        'quarter_points',
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('quarter', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('village_id', sa.Integer(), nullable=False),
        sa.Column('plus', sa.Integer(), nullable=False),
        sa.Column('minus', sa.Integer(), nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_quarter_points_household_id_households')),
        sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_quarter_points_village_id_villages')),
        sa.PrimaryKeyConstraint('household_id', 'year', 'quarter', name=op.f('pk_quarter_points')),
    )
    with op.batch_alter_table('quarter_points', schema=None) as batch_op:
        batch_op.create_index('ix_quarter_points_village_quarter', ['village_id', 'year', 'quarter'], unique=False)
    connection = op.get_bind()
    create_triggers(connection)
    fill(connection)


def downgrade():
    drop_triggers(op.get_bind())
    with op.batch_alter_table('quarter_points', schema=None) as batch_op:
        batch_op.drop_index('ix_quarter_points_village_quarter')
    op.drop_table('quarter_points')
