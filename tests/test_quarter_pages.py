"""The quarter pages: tally and ranking, red and black lists, publishing, objections, the year."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from villagepoints import households, ledger, publication, rules, villages
from villagepoints.extensions import db
from villagepoints.models import Entry, Objection, Publication, QuarterState
from villagepoints.quarters import Quarter

# A quarter that is over, so it can be published and its notice period can end.
PAST = Quarter.of(dt.date.today()).previous()
DAY = PAST.first_day + dt.timedelta(days=10)
URL = f"/v/jiangba/quarters/{PAST}"

# name, group, points in PAST (0: none)
PEOPLE = (("甲", "一组", 9), ("乙", "二组", 4), ("丙", "一组", -3), ("丁", "三组", 0))


def text(response) -> str:
    return response.get_data(as_text=True)


def table_rows(page: str, css_class: str) -> list[list[str]]:
    """Return the cells of each body row of the first table with the class, tags stripped."""
    table = re.search(rf'<table class="[^"]*\b{css_class}\b[^"]*">(.*?)</table>', page, re.S)
    assert table, f"no table.{css_class} on the page"
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(1), re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


class Village:
    """A village with four households, points in the past quarter, and a user of each role."""

    def __init__(self, app, web, codes: dict[str, str]) -> None:
        self.app = app
        self.web = web
        self.codes = codes
        self.user: str | None = None

    def login(self, username: str):
        if self.user is not None:
            self.web.post("/logout")
        self.user = username
        return self.web.login(username)

    def award(self, name: str, points: int, day: dt.date = DAY) -> int:
        with self.app.app_context():
            village = villages.get_by_slug("jiangba")
            household = households.get_household(village, self.codes[name])
            rule = rules.rule_by_code(village, "P06" if points > 0 else "M09")
            entry = ledger.make_entry(None, village, household, rule, day, points, evidence=True, approve=True)
            db.session.commit()
            return entry.id

    def publish(self, **fields):
        """Publish as a reviewer does: the form, then the confirmation page's button."""
        data = {"notice_days": "7", "contact": "村委会 王主任"}
        data.update(fields)
        first = self.web.post(f"{URL}/publish", data, follow_redirects=True)
        expected = re.search(r'name="expected"[^>]*value="([^"]*)"', text(first))
        if expected is None:  # refused at the first step: the quarter page with the reason
            return first
        return self.web.post(
            f"{URL}/publish", {**data, "confirm": "yes", "expected": expected.group(1)}, follow_redirects=True
        )

    def group_id(self, name: str) -> int:
        with self.app.app_context():
            return villages.find_group(villages.get_by_slug("jiangba"), name).id

    def state(self) -> tuple[str, int]:
        with self.app.app_context():
            row = db.session.execute(db.select(QuarterState).filter_by(quarter=str(PAST))).scalar_one_or_none()
            return (row.status, row.version) if row else ("open", 0)

    def set_base(self, base: int) -> None:
        with self.app.app_context():
            villages.get_by_slug("jiangba").base_score = base
            db.session.commit()


@pytest.fixture
def scheme(app, web, make_village, make_user, make_household) -> Village:
    make_village(require_review=False)
    for username, role in (("admin1", "admin"), ("reviewer1", "reviewer"), ("clerk1", "clerk"), ("viewer1", "viewer")):
        make_user(username, role)
    codes = {
        name: make_household(head_name=name, group=group, joined_on=dt.date(2020, 1, 1)) for name, group, _ in PEOPLE
    }
    v = Village(app, web, codes)
    for name, _group, points in PEOPLE:
        if points:
            v.award(name, points)
    return v


def test_tally_page_shows_ranks_in_order_with_base_plus_and_minus(scheme):
    scheme.login("viewer1")
    page = text(scheme.web.get(URL))
    assert f"{PAST.label}" in page and "未公示" in page and "实时计算" in page
    rows = table_rows(page, "tally")
    assert [(r[0], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows] == [
        ("1", "甲", "一组", "100", "+9", "0", "109"),
        ("2", "乙", "二组", "100", "+4", "0", "104"),
        ("3", "丁", "三组", "100", "0", "0", "100"),
        ("4", "丙", "一组", "100", "0", "-3", "97"),
    ]
    for heading in ("排名", "户编号", "户主", "小组", "基础分", "加分", "扣分", "季度积分"):
        assert f">{heading}</th>" in page


def test_names_in_the_ranking_are_escaped(scheme, make_household):
    """The ranking writes its numbers unescaped for speed; every text cell is still escaped."""
    make_household(head_name="<b>王</b>&", group="一组", joined_on=dt.date(2020, 1, 1))
    scheme.login("viewer1")
    for query in ("", "?sort=code"):
        page = text(scheme.web.get(URL + query))
        assert "<b>王</b>" not in page
        assert "&lt;b&gt;王&lt;/b&gt;&amp;" in page


def test_filtering_by_group_keeps_the_village_wide_ranks_and_sorting_by_code(scheme):
    scheme.login("viewer1")
    page = text(scheme.web.get(f"{URL}?group={scheme.group_id('一组')}"))
    assert [(r[0], r[2]) for r in table_rows(page, "tally")] == [("1", "甲"), ("4", "丙")]
    assert "本组 <strong>2</strong> 户" in page

    by_code = table_rows(text(scheme.web.get(f"{URL}?sort=code")), "tally")
    assert [r[1] for r in by_code] == sorted(scheme.codes.values())
    by_group = table_rows(text(scheme.web.get(f"{URL}?sort=group")), "tally")
    assert [r[2] for r in by_group] == ["甲", "丙", "乙", "丁"]


def test_lists_show_each_row_with_its_reasons_joined(scheme, app):
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        ledger.add_honour(None, households.get_household(village, scheme.codes["甲"]), "文明家庭", DAY)
        db.session.commit()
    scheme.login("clerk1")
    page = text(scheme.web.get(URL))
    red = table_rows(page, "red")
    assert [(r[2], r[5]) for r in red] == [("甲", "季度积分排名第1；获评文明家庭"), ("乙", "季度积分排名第2")]
    black = table_rows(page, "black")
    assert [(r[2], r[4], r[5]) for r in black] == [("丙", "97", "积分低于基础分（97分）")]


def test_group_summary_ranks_the_groups_by_average(scheme):
    scheme.login("viewer1")
    rows = table_rows(text(scheme.web.get(URL)), "group-summary")
    # 名次, 小组, 户数, 平均分, 低于基础分, 红榜, 黑榜
    assert rows == [
        ["1", "二组", "1", "104.00", "0", "1", "0"],
        ["2", "一组", "2", "103.00", "1", "1", "1"],
        ["3", "三组", "1", "100.00", "0", "0", "0"],
    ]


def test_quarter_list_shows_the_current_and_past_quarters_with_their_status(scheme):
    scheme.login("reviewer1")
    scheme.publish()
    page = text(scheme.web.get("/v/jiangba/quarters"))
    current = Quarter.of(dt.date.today())
    assert current.label in page and "（本季度）" in page
    assert page.count('class="badge quarter-') == 9
    row = re.search(rf"{PAST.label}.*?</tr>", page, re.S).group(0)
    assert "公示中" in row and "第1版" in row
    assert "季度公示" in page  # the nav link


def test_publishing_through_the_page_freezes_the_numbers(scheme):
    scheme.login("reviewer1")
    form = text(scheme.web.get(URL))
    assert 'value="7"' in form  # notice days prefilled from the village settings

    page = text(scheme.publish(notice_days="5", contact="村委会 李主任 13800138000"))

    assert "已公示（第1版）" in page
    ends = dt.date.today() + dt.timedelta(days=4)
    assert f"公示中，公示期至 {ends}" in page
    assert "对公示有异议，请联系：村委会 李主任 13800138000" in page
    assert scheme.state() == ("published", 1)
    # A base-score change after publishing does not alter what the page shows.
    scheme.set_base(50)
    rows = table_rows(text(scheme.web.get(URL)), "tally")
    assert [(r[2], r[4], r[7]) for r in rows][:2] == [("甲", "100", "109"), ("乙", "100", "104")]
    # Entries in the published quarter are refused, naming it.
    with pytest.raises(ledger.QuarterLocked, match=PAST.label):
        scheme.award("丁", 2)


def test_publishing_is_refused_while_entries_wait_for_review(scheme, app):
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        village.require_review = True
        rule = rules.rule_by_code(village, "P06")
        ledger.make_entry(None, village, households.get_household(village, scheme.codes["丁"]), rule, DAY, 2,
                          evidence=True)
        db.session.commit()
    scheme.login("reviewer1")
    page = text(scheme.web.get(URL))
    assert "本季度还有 <strong>1</strong> 条积分记录待审核" in page
    assert "/v/jiangba/review?" in page and "公示本季度" not in page

    page = text(scheme.publish())
    assert "还有 1 条积分记录待审核，请审核完再公示" in page
    assert scheme.state() == ("open", 0)


def test_reopen_needs_an_admin_and_a_reason(scheme):
    scheme.login("reviewer1")
    scheme.publish()
    assert scheme.web.post(f"{URL}/reopen", {"reason": "分数录错"}).status_code == 403
    assert "重新开放本季度" not in text(scheme.web.get(URL))

    scheme.login("admin1")
    page = text(scheme.web.post(f"{URL}/reopen", {"reason": " "}))
    assert "重新开放时请写明理由" in page
    assert scheme.state() == ("published", 1)

    page = text(scheme.web.post(f"{URL}/reopen", {"reason": "甲的分数录错"}, follow_redirects=True))
    assert "已重新开放" in page and "第1版公示已作废（甲的分数录错）" in page
    assert scheme.state() == ("open", 1)


def test_republishing_makes_version_2_and_version_1_stays_viewable(scheme, app):
    scheme.login("admin1")
    scheme.publish()
    scheme.web.post(f"{URL}/reopen", {"reason": "甲的分数录错"})
    with app.app_context():
        wrong = db.session.execute(db.select(Entry).filter_by(points=9)).scalar_one()
        ledger.reverse(None, wrong, "录错")
        db.session.commit()

    page = text(scheme.publish())
    assert "已公示（第2版）" in page
    assert [r[2] for r in table_rows(page, "tally")][0] == "乙"
    assert f'href="{URL}/v/1"' in page and "作废理由：甲的分数录错" in page

    old = text(scheme.web.get(f"{URL}/v/1"))
    assert "这一版公示已作废" in old and "作废理由：甲的分数录错" in old
    assert [(r[2], r[7]) for r in table_rows(old, "tally")][0] == ("甲", "109")
    current = scheme.web.get(f"{URL}/v/2")
    assert current.status_code == 302 and current.headers["Location"].endswith(URL)
    assert scheme.web.get(f"{URL}/v/3").status_code == 404


def test_objection_is_recorded_then_answered_upheld_with_its_correcting_entry(scheme, app):
    scheme.login("reviewer1")
    scheme.publish()
    scheme.login("clerk1")
    page = text(scheme.web.post(f"{URL}/objections", {"household": "nope", "raised_by": "丙", "content": "x"}))
    assert "找不到户编号为“nope”的农户" in page
    page = text(scheme.web.post(
        f"{URL}/objections", {"household": scheme.codes["丙"], "raised_by": "丙", "content": "我没有乱扔垃圾"},
        follow_redirects=True,
    ))
    assert "已登记异议" in page and "我没有乱扔垃圾" in page and "待答复" in page
    with app.app_context():
        objection_id = db.session.execute(db.select(Objection.id)).scalar_one()
    answer_url = f"{URL}/objections/{objection_id}/answer"
    assert scheme.web.get(answer_url).status_code == 403  # clerks record, reviewers answer

    # The correction needs the quarter open again: an admin reopens, the wrong entry is reversed.
    scheme.login("admin1")
    scheme.web.post(f"{URL}/reopen", {"reason": "丙的异议属实"})
    with app.app_context():
        wrong = db.session.execute(db.select(Entry).filter_by(points=-3)).scalar_one()
        wrong_id, fix_id = wrong.id, ledger.reverse(None, wrong, "异议成立").id
        db.session.commit()

    scheme.login("reviewer1")
    form = text(scheme.web.get(answer_url))
    options = re.findall(r'<option[^>]*value="(\d+)"', form)
    assert options == [str(fix_id), str(wrong_id)]  # newest first, the reversal included
    assert "（冲正）" in form

    page = text(scheme.web.post(answer_url, {"upheld": "yes", "answer": "核实属实", "correcting_entry": ""}))
    assert "异议成立时，请选择更正它的积分记录" in page

    page = text(scheme.web.post(
        answer_url, {"upheld": "yes", "answer": "核实属实，已冲正", "correcting_entry": str(fix_id)},
        follow_redirects=True,
    ))
    assert f"已答复异议 #{objection_id}" in page and "请重新公示" in page
    assert "成立" in page and "核实属实，已冲正" in page
    assert f'href="/v/jiangba/entries/{fix_id}"' in page

    page = text(scheme.publish())
    assert "已公示（第2版）" in page
    assert "本季度臊皮榜没有农户" in page


def test_objection_can_be_dismissed_while_the_quarter_is_published(scheme, app):
    scheme.login("reviewer1")
    scheme.publish()
    scheme.web.post(f"{URL}/objections", {"household": scheme.codes["丙"], "raised_by": "丙", "content": "扣分太多"})
    with app.app_context():
        objection_id = db.session.execute(db.select(Objection.id)).scalar_one()
    page = text(scheme.web.post(
        f"{URL}/objections/{objection_id}/answer", {"upheld": "no", "answer": "经核实扣分无误"},
        follow_redirects=True,
    ))
    assert "不成立" in page and "经核实扣分无误" in page
    assert scheme.state() == ("published", 1)


def test_close_only_after_the_notice_period(scheme, app):
    scheme.login("reviewer1")
    scheme.publish(notice_days="1")
    page = text(scheme.web.post(f"{URL}/close", {}))
    assert f"公示期到 {dt.date.today()} 才结束" in page
    assert scheme.state() == ("published", 1)

    with app.app_context():
        pub = db.session.execute(db.select(Publication)).scalar_one()
        pub.notice_ends_on = dt.date.today() - dt.timedelta(days=1)
        db.session.commit()
    page = text(scheme.web.get(URL))
    assert "结束本季度" in page and "不在公示期内" in page
    page = text(scheme.web.post(f"{URL}/close", {}, follow_redirects=True))
    assert f"{PAST.label}已结束" in page
    assert scheme.state() == ("closed", 1)
    assert "本季度已结束，数字不再变化" in page


def test_a_viewer_gets_403_on_every_post(scheme, app):
    scheme.login("reviewer1")
    scheme.publish()
    scheme.web.post(f"{URL}/objections", {"household": scheme.codes["丙"], "raised_by": "丙", "content": "x"})
    with app.app_context():
        objection_id = db.session.execute(db.select(Objection.id)).scalar_one()
    scheme.login("viewer1")
    assert scheme.web.get(URL).status_code == 200
    for url, data in (
        (f"{URL}/publish", {"notice_days": "7"}),
        (f"{URL}/reopen", {"reason": "x"}),
        (f"{URL}/close", {}),
        (f"{URL}/objections", {"household": scheme.codes["甲"], "raised_by": "甲", "content": "x"}),
        (f"{URL}/objections/{objection_id}/answer", {"upheld": "no", "answer": "x"}),
        (f"/v/jiangba/years/{PAST.year}/stars", {"star1": "100"}),
    ):
        assert scheme.web.post(url, data).status_code == 403, url
    assert scheme.state() == ("published", 1)


def test_bad_quarters_and_years_are_not_found(scheme):
    scheme.login("viewer1")
    for url in ("/v/jiangba/quarters/2026Q5", "/v/jiangba/quarters/abc", "/v/jiangba/quarters/0000Q1",
                "/v/jiangba/years/1800"):
        assert scheme.web.get(url).status_code == 404, url


def test_year_page_lists_priority_and_admin_sets_star_bands(scheme, app):
    with app.app_context():
        publication.publish(None, villages.get_by_slug("jiangba"), PAST, contact="村委会")
        db.session.commit()
    year_url = f"/v/jiangba/years/{PAST.year}"
    scheme.login("admin1")
    page = text(scheme.web.get(year_url))
    rows = table_rows(page, "priority")
    # 优先序, 户编号, 户主, 小组, 年度积分, 红榜次数, 黑榜次数 — the black-listed household last.
    assert [(r[0], r[2], r[4], r[5], r[6]) for r in rows] == [
        ("1", "甲", "109", "1", "0"), ("2", "乙", "104", "1", "0"), ("3", "丁", "100", "0", "0"),
        ("4", "丙", "97", "0", "1"),
    ]
    assert ">星级</th>" not in page and "不评星级" in page

    page = text(scheme.web.post(f"{year_url}/stars", {"star1": "105", "star2": "100"}))
    assert "2星的分数线应高于1星（105分）" in page

    page = text(scheme.web.post(f"{year_url}/stars", {"star1": "100", "star2": "105", "star3": ""},
                                follow_redirects=True))
    assert "星级分数线已保存" in page
    stars = {r[2]: r[7] for r in table_rows(page, "priority")}
    assert stars == {"甲": "★★", "乙": "★", "丁": "★", "丙": ""}

    page = text(scheme.web.post(f"{year_url}/stars", {}, follow_redirects=True))
    assert f"{PAST.year}年不评星级" in page and ">星级</th>" not in page

    scheme.login("reviewer1")
    assert scheme.web.post(f"{year_url}/stars", {"star1": "100"}).status_code == 403
