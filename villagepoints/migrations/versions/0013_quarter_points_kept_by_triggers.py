"""approved points per household and per rule for each quarter, kept current by triggers on entries

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 13:00:00

``quarter_points`` holds, per household and quarter, the approved points from plus rules,
from minus rules, and the number of approved entries; ``quarter_rule_points`` the same per
village, quarter and rule (code and title as the entries recorded them). Triggers on
``entries`` keep both in step inside the writing transaction, whatever writes the entry
(a form, a review, an import, a fix typed into the database): an entry counts while its
status is ``approved``. Both are filled from the entries already there.

SQLite has row triggers only; PostgreSQL gets statement triggers over transition tables,
so an import of 50,000 rows updates each household's row once.

A later migration that rebuilds ``entries`` in SQLite batch mode drops its triggers with
the old table: it must call ``create_triggers`` again (the tests compare the kept rows
with a recomputation after every test, so a lost trigger fails them).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# Each kept table: its key columns besides year and quarter, and the columns copied from
# the entry on insert (the same for every entry of a key).
KEPT = {
    "quarter_points": (("household_id",), ("village_id",)),
    "quarter_rule_points": (("village_id", "rule_code", "rule_title"), ()),
}
# A change to any of these moves an approved entry's points between kept rows.
WATCHED = ("status", "points", "kind", "entry_date", "household_id", "village_id", "rule_code", "rule_title")

YEAR = {
    "sqlite": "CAST(substr({row}.entry_date, 1, 4) AS INTEGER)",
    "postgresql": "EXTRACT(YEAR FROM {row}.entry_date)::int",
}
QUARTER = {
    "sqlite": "((CAST(substr({row}.entry_date, 6, 2) AS INTEGER) + 2) / 3)",
    "postgresql": "EXTRACT(QUARTER FROM {row}.entry_date)::int",
}
PLUS = "CASE WHEN {row}.kind = 'plus' THEN {row}.points ELSE 0 END"
MINUS = "CASE WHEN {row}.kind = 'minus' THEN {row}.points ELSE 0 END"


def _columns(table: str) -> tuple[list[str], list[str]]:
    keys, carried = KEPT[table]
    return [keys[0], "year", "quarter", *keys[1:]], list(carried)


def _values(dialect: str, table: str, row: str) -> list[str]:
    """The entry's value for each key and carried column of the table."""
    keys, carried = _columns(table)
    out = []
    for column in keys + carried:
        if column == "year":
            out.append(YEAR[dialect].format(row=row))
        elif column == "quarter":
            out.append(QUARTER[dialect].format(row=row))
        else:
            out.append(f"{row}.{column}")
    return out


def _upsert_set(table: str) -> str:
    return (f"plus = {table}.plus + excluded.plus, minus = {table}.minus + excluded.minus, "
            f"entries = {table}.entries + excluded.entries")


# SQLite: one row at a time.

def _sqlite_add(table: str, row: str) -> str:
    keys, carried = _columns(table)
    values = _values("sqlite", table, row)
    return f"""
        INSERT INTO {table} ({', '.join(keys + carried)}, plus, minus, entries)
        VALUES ({', '.join(values)}, {PLUS.format(row=row)}, {MINUS.format(row=row)}, 1)
        ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {_upsert_set(table)};"""


def _sqlite_take(table: str, row: str) -> str:
    keys, _carried = _columns(table)
    values = _values("sqlite", table, row)
    match = " AND ".join(f"{k} = {v}" for k, v in zip(keys, values))
    return f"""
        UPDATE {table} SET plus = plus - {PLUS.format(row=row)}, minus = minus - {MINUS.format(row=row)},
            entries = entries - 1
        WHERE {match};"""


def _sqlite_triggers() -> list[tuple[str, str]]:
    def body(step, row):
        return " ".join(step(table, row) for table in KEPT)

    watched = ", ".join(WATCHED)
    return [
        ("kept_points_on_insert", f"AFTER INSERT ON entries WHEN NEW.status = 'approved' "
                                  f"BEGIN {body(_sqlite_add, 'NEW')} END"),
        # Taken out before being added back: an entry that stays approved may move between rows.
        ("kept_points_on_update_take", f"AFTER UPDATE OF {watched} ON entries WHEN OLD.status = 'approved' "
                                       f"BEGIN {body(_sqlite_take, 'OLD')} END"),
        ("kept_points_on_update_add", f"AFTER UPDATE OF {watched} ON entries WHEN NEW.status = 'approved' "
                                      f"BEGIN {body(_sqlite_add, 'NEW')} END"),
        ("kept_points_on_delete", f"AFTER DELETE ON entries WHEN OLD.status = 'approved' "
                                  f"BEGIN {body(_sqlite_take, 'OLD')} END"),
    ]


# PostgreSQL: a whole statement's rows at once, from its transition tables.

def _unchanged(other: str, row: str) -> str:
    """Rows whose counted fields did not change are left out on both sides of an update, so
    approving one entry or editing an approved entry's note touches only what moved."""
    same = " AND ".join(f"x.{c} = {row}.{c}" for c in WATCHED if c != "status")
    return f"AND NOT EXISTS (SELECT 1 FROM {other} x WHERE x.id = {row}.id AND x.status = 'approved' AND {same})"


def _pg_sums(row: str) -> str:
    return (f"sum({PLUS.format(row=row)}) AS plus, sum({MINUS.format(row=row)}) AS minus, "
            f"count(*) AS entries")


def _pg_add(table: str, unchanged: str) -> str:
    keys, carried = _columns(table)
    values = _values("postgresql", table, "n")
    grouped = values[:len(keys)]
    carried_values = [f"min({v})" for v in values[len(keys):]]
    positions = ", ".join(str(i + 1) for i in range(len(keys)))
    return f"""
        INSERT INTO {table} ({', '.join(keys + carried)}, plus, minus, entries)
        SELECT {', '.join(grouped + carried_values)}, {_pg_sums('n')}
        FROM new_rows n WHERE n.status = 'approved' {unchanged}
        GROUP BY {positions}
        -- Rows are locked in key order, as every action locks its households.
        ORDER BY {positions}
        ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {_upsert_set(table)};"""


def _pg_take(table: str, unchanged: str) -> str:
    keys, _carried = _columns(table)
    values = _values("postgresql", table, "o")[:len(keys)]
    selected = ", ".join(f"{v} AS {k}" for k, v in zip(keys, values))
    positions = ", ".join(str(i + 1) for i in range(len(keys)))
    match = " AND ".join(f"t.{k} = d.{k}" for k in keys)
    return f"""
        UPDATE {table} t SET plus = t.plus - d.plus, minus = t.minus - d.minus, entries = t.entries - d.entries
        FROM (
            SELECT {selected}, {_pg_sums('o')}
            FROM old_rows o WHERE o.status = 'approved' {unchanged}
            GROUP BY {positions}
        ) d
        WHERE {match};"""


def _pg_function() -> str:
    # plpgsql plans a statement when it first runs it: each branch names only the
    # transition tables its trigger has.
    inserted = "".join(_pg_add(t, "") for t in KEPT)
    updated = "".join(_pg_take(t, _unchanged("new_rows", "o")) + _pg_add(t, _unchanged("old_rows", "n"))
                      for t in KEPT)
    deleted = "".join(_pg_take(t, "") for t in KEPT)
    return f"""
CREATE FUNCTION kept_points_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN {inserted}
    ELSIF TG_OP = 'UPDATE' THEN {updated}
    ELSE {deleted}
    END IF;
    RETURN NULL;
END
$$
"""


PG_TRIGGERS = (
    ("kept_points_on_insert", "AFTER INSERT ON entries REFERENCING NEW TABLE AS new_rows"),
    ("kept_points_on_update", "AFTER UPDATE ON entries REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("kept_points_on_delete", "AFTER DELETE ON entries REFERENCING OLD TABLE AS old_rows"),
)


def create_triggers(connection) -> None:
    """Create the triggers that keep the kept tables current (dropped first if there)."""
    drop_triggers(connection)
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text(_pg_function()))
        for name, when in PG_TRIGGERS:
            connection.execute(sa.text(
                f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT EXECUTE FUNCTION kept_points_keep()"
            ))
    else:
        for name, body in _sqlite_triggers():
            connection.execute(sa.text(f"CREATE TRIGGER {name} {body}"))


def drop_triggers(connection) -> None:
    if connection.dialect.name == "postgresql":
        for name, _when in PG_TRIGGERS:
            connection.execute(sa.text(f"DROP TRIGGER IF EXISTS {name} ON entries"))
        connection.execute(sa.text("DROP FUNCTION IF EXISTS kept_points_keep()"))
    else:
        for name, _body in _sqlite_triggers():
            connection.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))


def fill(connection) -> None:
    """Sum the approved entries already written into the kept tables."""
    dialect = connection.dialect.name
    for table in KEPT:
        keys, carried = _columns(table)
        values = _values(dialect, table, "e")
        grouped = values[:len(keys)]
        carried_values = [f"min({v})" for v in values[len(keys):]]
        connection.execute(sa.text(f"DELETE FROM {table}"))
        connection.execute(sa.text(f"""
            INSERT INTO {table} ({', '.join(keys + carried)}, plus, minus, entries)
            SELECT {', '.join(grouped + carried_values)},
                   sum({PLUS.format(row='e')}), sum({MINUS.format(row='e')}), count(*)
            FROM entries e WHERE e.status = 'approved'
            GROUP BY {', '.join(grouped)}
        """))


def _sums():
    return (
        sa.Column('plus', sa.Integer(), nullable=False),
        sa.Column('minus', sa.Integer(), nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
    )


def upgrade():
    op.create_table(
        'quarter_points',
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('quarter', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('village_id', sa.Integer(), nullable=False),
        *_sums(),
        sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_quarter_points_household_id_households')),
        sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_quarter_points_village_id_villages')),
        sa.PrimaryKeyConstraint('household_id', 'year', 'quarter', name=op.f('pk_quarter_points')),
    )
    with op.batch_alter_table('quarter_points', schema=None) as batch_op:
        batch_op.create_index('ix_quarter_points_village_quarter', ['village_id', 'year', 'quarter'], unique=False)
    op.create_table(
        'quarter_rule_points',
        sa.Column('village_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('quarter', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('rule_code', sa.String(length=20), nullable=False),
        sa.Column('rule_title', sa.String(length=200), nullable=False),
        *_sums(),
        sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_quarter_rule_points_village_id_villages')),
        sa.PrimaryKeyConstraint('village_id', 'year', 'quarter', 'rule_code', 'rule_title',
                                name=op.f('pk_quarter_rule_points')),
    )
    connection = op.get_bind()
    create_triggers(connection)
    fill(connection)


def downgrade():
    drop_triggers(op.get_bind())
    op.drop_table('quarter_rule_points')
    with op.batch_alter_table('quarter_points', schema=None) as batch_op:
        batch_op.drop_index('ix_quarter_points_village_quarter')
    op.drop_table('quarter_points')
