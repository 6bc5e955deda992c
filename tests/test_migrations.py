"""The migrations build exactly the schema the models describe, and init-db is safe to repeat."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from villagepoints.extensions import db
from villagepoints.models import User


def test_migrated_schema_matches_the_models(app):
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []


def test_init_db_twice_keeps_the_first_admin(app, runner):
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert "已创建首个管理员" in first.output
    second = runner.invoke(args=["init-db"])
    assert second.exit_code == 0 and "已创建" not in second.output
    with app.app_context():
        admins = db.session.execute(db.select(User).filter_by(role="admin")).scalars().all()
        assert [u.username for u in admins] == ["admin"]


def _migration(name: str):
    import importlib.util
    from pathlib import Path

    import villagepoints

    path = Path(villagepoints.__file__).parent / "migrations" / "versions" / name
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_0012_signs_old_records_with_display_names(ctx):
    import datetime as dt

    from villagepoints import accounts, households, ledger, rules, villages
    from villagepoints.households import HouseholdFields
    from villagepoints.models import AuditEntry, Entry, HouseholdCard

    village = villages.create_village(None, "蒋坝村", "jiangba", ["一组"])
    clerk = accounts.create_user(None, "clerk1", "correct-horse-9", "clerk", [village], display_name="张会计")
    reviewer = accounts.create_user(None, "rev1", "correct-horse-9", "reviewer", [village], display_name="李主任")
    plain = accounts.create_user(None, "rev2", "correct-horse-9", "reviewer", [village])
    household = households.create_household(None, village, HouseholdFields(head_name="王五",
                                                                            joined_on=dt.date(2020, 1, 1)))
    rule = rules.rule_by_code(village, "P03")
    reviewed = ledger.make_entry(clerk, village, household, rule, dt.date(2026, 6, 1), evidence=True,
                                 today=dt.date(2026, 6, 30))
    ledger.reject(reviewer, [reviewed], "户选错了")
    by_plain = ledger.make_entry(clerk, village, household, rule, dt.date(2026, 6, 2), evidence=True,
                                 today=dt.date(2026, 6, 30))
    ledger.reject(plain, [by_plain], "重复")
    card = HouseholdCard(village_id=village.id, household_id=household.id, token_hash="0" * 64, issued_by_name="clerk1")
    db.session.add(card)
    db.session.flush()
    # As rows written before display names were copied: the login names.
    db.session.execute(db.update(Entry).values(created_by_name="clerk1"))
    db.session.execute(db.update(Entry).where(Entry.id == reviewed.id).values(reviewed_by_name="rev1"))
    db.session.execute(db.update(AuditEntry).where(AuditEntry.user_id == clerk.id).values(actor="clerk1"))
    cli_rows = db.session.execute(db.select(db.func.count()).where(AuditEntry.actor == "命令行")).scalar_one()
    db.session.commit()

    _migration("0012_display_names_and_dismissed_rejections.py").rewrite_login_names(db.session.connection())
    db.session.commit()
    db.session.expire_all()

    assert (db.session.get(Entry, reviewed.id).created_by_name, db.session.get(Entry, reviewed.id).reviewed_by_name) \
        == ("张会计", "李主任")
    assert db.session.get(Entry, by_plain.id).reviewed_by_name == "rev2"  # no display name: the login name stays
    assert db.session.get(HouseholdCard, card.id).issued_by_name == "张会计"  # no user id: matched by login name
    clerk_actors = db.session.execute(db.select(AuditEntry.actor).where(AuditEntry.user_id == clerk.id)).scalars()
    assert set(clerk_actors) == {"张会计"}
    assert db.session.execute(
        db.select(db.func.count()).where(AuditEntry.actor == "命令行")
    ).scalar_one() == cli_rows  # names that are no login name are left alone


# What a village's database held before this line of migrations (0006 is the last one
# that had shipped); every such row must come through an upgrade unchanged.
_TABLES_AT_0006 = ("villages", "groups", "households", "rules", "entries", "users", "publications",
                   "store_items", "redemptions", "audit_log")


def test_a_sqlite_database_full_of_data_upgrades_through_every_migration(tmp_path):
    """Batch migrations rebuild SQLite tables; with foreign keys enforced, dropping a table
    that rows point at (rules, villages, users, entries) used to stop `init-db` halfway."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from villagepoints import create_app, demo_data

    url = f"sqlite:///{tmp_path / 'village.sqlite3'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        upgrade()
        demo_data.load_demo(None, "correct-horse-9", households_count=30)
        db.session.commit()

        def counts():
            with db.engine.connect() as c:
                return {t: c.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in _TABLES_AT_0006}

        before = counts()
        assert before["entries"] and before["redemptions"] and before["publications"]
        downgrade(revision="0006")
        upgrade()
        assert counts() == before
        with db.engine.connect() as c:
            assert c.execute(text("PRAGMA foreign_key_check")).fetchall() == []
            assert c.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == _head()
        # The kept quarter sums were filled from the entries already there, and their triggers
        # survived the batch rebuilds of entries.
        from villagepoints import quarter_points
        from villagepoints.models import QuarterPoints

        assert db.session.query(QuarterPoints).count() > 0
        assert quarter_points.drift() == []
        db.engine.dispose()


def _head() -> str:
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent.parent / "villagepoints" / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()
