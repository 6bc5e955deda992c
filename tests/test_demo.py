"""The `demo` command: a living demo village right after set-up."""
from __future__ import annotations

import re
from collections import Counter

from villagepoints import villages
from villagepoints.extensions import db
from villagepoints.models import Household, User
from villagepoints.personal_data import normalize_id_number, normalize_phone


def _demo_households(app, slug: str = "demo") -> list[Household]:
    with app.app_context():
        village = villages.get_by_slug(slug)
        rows = db.session.execute(
            db.select(Household).where(Household.village_id == village.id).order_by(Household.code)
        ).scalars().all()
        for h in rows:  # load what the assertions read before the session closes
            _ = h.categories, h.group
        return rows


def _password(output: str) -> str:
    return re.search(r"密码: (\S+)", output).group(1)


def test_demo_loads_a_village_with_groups_households_and_users(app, runner):
    result = runner.invoke(args=["demo", "--households", "120"])

    assert result.exit_code == 0, result.output
    assert "已加载示范村（村代码 demo）：6 个小组，120 户" in result.output
    rows = _demo_households(app)
    assert len(rows) == 120
    assert {h.group.name for h in rows} == {"一组", "二组", "三组", "四组", "五组", "六组"}
    assert all(1 <= h.members <= 7 for h in rows)
    assert all(re.fullmatch(r"[一二三四五六]组\d+号", h.address) for h in rows)
    with app.app_context():
        names = set(db.session.execute(db.select(User.username)).scalars())
    assert {"demo-clerk", "demo-reviewer", "demo-storekeeper", "demo-viewer"} <= names


def test_demo_households_have_valid_unique_id_numbers_and_phones(app, runner):
    runner.invoke(args=["demo", "--households", "300"])

    rows = _demo_households(app)
    ids = [h.id_number for h in rows if h.id_number]
    assert len(ids) > 250
    assert len(set(ids)) == len(ids)
    assert all(normalize_id_number(i) == i for i in ids)
    phones = [h.phone for h in rows if h.phone]
    assert all(normalize_phone(p) == p for p in phones)


def test_demo_households_are_mostly_ordinary_with_some_of_every_other_category(app, runner):
    runner.invoke(args=["demo", "--households", "400"])

    counts = Counter(c for h in _demo_households(app) for c in h.categories)
    assert counts["一般户"] > 250
    for category in ("党员户", "脱贫户", "监测户", "低保户", "五保户", "村干部户"):
        assert counts[category] >= 1, category


def test_demo_gives_the_same_households_every_time(app, runner):
    runner.invoke(args=["demo", "--households", "50"])
    runner.invoke(args=["demo", "--households", "50", "--slug", "demo2"])

    first = [(h.code, h.head_name, h.id_number, h.members) for h in _demo_households(app, "demo")]
    second = [(h.code, h.head_name, h.id_number, h.members) for h in _demo_households(app, "demo2")]
    assert first == second


def test_demo_refuses_politely_when_the_village_exists(app, runner):
    runner.invoke(args=["demo", "--households", "30"])

    again = runner.invoke(args=["demo", "--households", "30"])

    assert again.exit_code != 0
    assert "已存在，示范数据没有重复加载" in again.output
    assert len(_demo_households(app)) == 30


def test_demo_if_empty_leaves_an_existing_register_alone(app, runner, make_village):
    make_village()

    result = runner.invoke(args=["demo", "--if-empty"])

    assert result.exit_code == 0
    assert "未加载示范数据" in result.output
    with app.app_context():
        assert villages.get_by_slug("demo") is None


def test_demo_clerk_logs_in_with_the_printed_password_and_sees_only_the_demo_village(
    app, runner, web, make_village
):
    make_village()
    result = runner.invoke(args=["demo", "--households", "20"])

    web.get("/login")
    login = web.post("/login", {"username": "demo-clerk", "password": _password(result.output)})

    assert login.status_code == 302
    # A user scoped to one village is taken straight to its register.
    assert web.get("/").location.endswith("/v/demo/households")
    assert web.get("/v/jiangba/households").status_code == 403
    saved = (app.instance_path + "/demo-users.txt")
    with open(saved, encoding="utf-8") as f:
        assert _password(result.output) in f.read()


def test_demo_is_a_scheme_in_motion_board_review_queue_and_store(app, runner, web):
    result = runner.invoke(args=["demo", "--households", "150"])
    assert result.exit_code == 0, result.output
    assert "2026年第三季度已公示" in result.output and "条待审核" in result.output
    board = web.get("/board/demo").get_data(as_text=True)
    assert "光荣榜" in board and "本村还没有公示的季度" not in board
    assert web.login("demo-reviewer", _password(result.output)).status_code == 200
    queue = web.get("/v/demo/review").get_data(as_text=True)
    # People are shown by their display names, never their login names.
    assert "示范录入员" in queue and "demo-clerk" not in queue
    with app.app_context():
        from villagepoints.models import Item, Redemption

        assert db.session.execute(db.select(db.func.count(Item.id))).scalar_one() == 6
        assert db.session.execute(db.select(db.func.count(Redemption.id))).scalar_one() >= 1
