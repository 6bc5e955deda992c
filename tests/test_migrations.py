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
