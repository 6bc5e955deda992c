"""`purge-old-rows` deletes throttle rows past every window and import claims older than 90 days;
recent rows stay, so a throttle in force and a claimed upload still refuse what they refused."""
import datetime as dt

import pytest
import time_machine
from sqlalchemy import event

from villagepoints import import_claims, throttle, villages
from villagepoints.extensions import db
from villagepoints.models import ImportClaim, LoginFailure, ThrottleKey, User

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
TWO_DAYS_AGO = NOW - dt.timedelta(days=2)
AN_HOUR_AGO = NOW - dt.timedelta(hours=1)


def keys() -> set[tuple[str, str]]:
    return {(k.kind, k.key) for k in db.session.execute(db.select(ThrottleKey)).scalars()}


def failed_names() -> list[str]:
    return sorted(db.session.execute(db.select(LoginFailure.username)).scalars())


def fail_at(when: dt.datetime, kind: str, key: str, addr: str, times: int = 1) -> None:
    with time_machine.travel(when, tick=False):
        for _ in range(times):
            throttle.check(kind, key, addr, per_key=100, per_addr=100, window_minutes=15)
            throttle.fail(kind, key, addr)
        db.session.commit()


def purge(runner, *args):
    with time_machine.travel(NOW, tick=False):
        result = runner.invoke(args=["purge-old-rows", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_throttle_rows_past_their_window_go_and_recent_ones_stay(app, ctx, runner):
    fail_at(TWO_DAYS_AGO, "login", "wang", "10.0.0.1", times=3)
    fail_at(TWO_DAYS_AGO, "lookup", "7:H001", "10.0.0.2")
    fail_at(AN_HOUR_AGO, "login", "li", "10.0.0.3", times=2)
    # wang tried again from a new address an hour ago: his name's row stays, the old address's goes.
    fail_at(AN_HOUR_AGO, "login", "wang", "10.0.0.9")
    output = purge(runner)
    assert "登录失败和查询计数记录 4 条" in output and "不再使用的限流记录 3 条" in output
    db.session.expire_all()
    assert failed_names() == ["li", "li", "wang"]
    assert keys() == {("login", "li"), ("login", "@10.0.0.3"), ("login", "wang"), ("login", "@10.0.0.9")}


def test_a_throttle_in_force_stays_in_force_after_the_purge(app, ctx, runner):
    fail_at(NOW - dt.timedelta(minutes=5), "login", "li", "10.0.0.3", times=3)
    purge(runner)
    with time_machine.travel(NOW, tick=False), pytest.raises(throttle.Throttled, match="请15分钟后再试"):
        throttle.check("login", "li", "10.0.0.3", per_key=3, per_addr=20, window_minutes=15)


def test_a_purged_key_is_made_again_on_its_next_use(app, ctx, runner):
    fail_at(TWO_DAYS_AGO, "login", "wang", "10.0.0.1")
    purge(runner)
    db.session.expire_all()
    assert keys() == set()
    fail_at(NOW, "login", "wang", "10.0.0.1")
    assert keys() == {("login", "wang"), ("login", "@10.0.0.1")}


@pytest.fixture
def claims(app, ctx, make_village, make_user):
    """Claims made 100 days ago (old) and 30 days ago (recent), as confirmed imports leave them."""
    make_village()
    make_user("clerk1", "clerk")
    village = villages.get_by_slug("jiangba")
    clerk = db.session.execute(db.select(User).filter_by(username="clerk1")).scalar_one()
    for token, days in (("a" * 32 + ".xlsx", 100), ("b" * 32 + ".xlsx", 30)):
        with time_machine.travel(NOW - dt.timedelta(days=days), tick=False):
            made = import_claims.claim(clerk, village, "households", token)
            made.outcome = {"added": days}
            db.session.commit()
    return village, clerk


def claimed_tokens() -> list[str]:
    return sorted(t[0] for t in db.session.execute(db.select(ImportClaim.token)).scalars())


def test_import_claims_older_than_90_days_go_and_recent_ones_stay(claims, runner):
    output = purge(runner)
    assert "90天前的导入确认记录 1 条" in output
    db.session.expire_all()
    assert claimed_tokens() == ["b"]


def test_a_recently_claimed_import_still_refuses_a_duplicate_confirm_after_the_purge(claims, runner):
    village, clerk = claims
    purge(runner)
    with time_machine.travel(NOW, tick=False), pytest.raises(import_claims.AlreadyImported) as refused:
        import_claims.claim(clerk, village, "households", "b" * 32 + ".xlsx")
    assert refused.value.outcome == {"added": 30}


def test_the_claims_window_can_be_shortened(claims, runner):
    output = purge(runner, "--claims-days", "7")
    assert "7天前的导入确认记录 2 条" in output
    db.session.expire_all()
    assert claimed_tokens() == []


def test_a_key_purged_between_its_insert_and_its_lock_is_made_again_and_locked(app, ctx):
    """The purge may delete an idle key's row just after lock() found it there: lock() makes it again."""
    purged = []

    def purge_once(conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT INTO THROTTLE_KEYS") and not purged:
            other = conn.connection.cursor()
            other.execute("DELETE FROM throttle_keys")
            other.close()
            purged.append(True)

    engine = db.engine
    event.listen(engine, "after_cursor_execute", purge_once)
    try:
        throttle.lock("login", ["wang"])
    finally:
        event.remove(engine, "after_cursor_execute", purge_once)
    assert purged
    assert keys() == {("login", "wang")}
