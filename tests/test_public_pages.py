"""The public board and the resident lookup, as a resident's browser gets them (no login)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest

from villagepoints import ledger, publication, rules, villages
from villagepoints.extensions import db
from villagepoints.models import Household, LoginFailure
from villagepoints.personal_data import id_check_char, mask_id_number, mask_phone
from villagepoints.quarters import Quarter

TODAY = dt.date.today()
# The last finished quarter: entries can be dated in it and it can be published today.
PAST = Quarter.of(TODAY).previous()


def id_number(first17: str) -> str:
    return first17 + id_check_char(first17)


# name, group, points in PAST, ID number, phone
PEOPLE = (
    ("张三", "一组", 8, id_number("52273119650312071"), "13912345671"),
    ("李四", "二组", 5, id_number("52273119720815072"), "13912345672"),
    ("赵六", "二组", 0, id_number("52273119800101073"), "13912345673"),
    ("王五", "三组", -5, id_number("52273119881111074"), "13912345674"),
)


@dataclass
class Board:
    app: object
    codes: dict[str, str]

    def publish(self, today: dt.date = TODAY, **settings) -> None:
        with self.app.app_context():
            village = villages.get_by_slug("jiangba")
            for key, value in settings.items():
                setattr(village, key, value)
            publication.publish(None, village, PAST, today=today)
            db.session.commit()

    def tail(self, name: str) -> str:
        return next(p[3] for p in PEOPLE if p[0] == name)[-4:]


@pytest.fixture
def board(app, make_village, make_household) -> Board:
    make_village(require_review=False)
    codes = {}
    for name, group, _points, idn, phone in PEOPLE:
        codes[name] = make_household(head_name=name, group=group, id_number=idn, phone=phone,
                                     joined_on=dt.date(2020, 1, 1))
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        for name, _group, points, _idn, _phone in PEOPLE:
            if points:
                household = db.session.execute(db.select(Household).filter_by(code=codes[name])).scalar_one()
                rule = rules.rule_by_code(village, "P06" if points > 0 else "M09")
                ledger.make_entry(None, village, household, rule, PAST.first_day, points, evidence=True)
        village.objection_contact = "村委会 王主任"
        db.session.commit()
    return Board(app, codes)


def text(response) -> str:
    return response.get_data(as_text=True)


def visible(response) -> str:
    """The page's words without its tags, so a name split by markup still reads as one."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(response)))


def table_rows(page: str, css_class: str) -> list[str]:
    """Return the body rows of the first table with the class."""
    table = re.search(rf'<table class="[^"]*\b{css_class}\b[^"]*">(.*?)</table>', page, re.S)
    return re.findall(r"<tr>.*?</tr>", re.search(r"<tbody>(.*?)</tbody>", table.group(1), re.S).group(1), re.S)


def lookup(web, code: str, tail: str):
    return web.post("/board/jiangba/lookup", {"code": code, "id_tail": tail})


def test_board_before_any_publication_says_so_without_login(board, web):
    response = web.get("/board/jiangba")
    assert response.status_code == 200
    assert "本村还没有公示的季度" in text(response)
    assert '<meta name="robots" content="noindex">' in text(response)
    assert "退出" not in text(response) and "农户台账" not in text(response)


def test_unknown_village_has_no_board(web):
    assert web.get("/board/nowhere").status_code == 404
    assert web.get("/board/nowhere/lookup").status_code == 404


def test_board_shows_quarter_version_notice_lists_and_ranking(board, web):
    board.publish()
    page = visible(web.get("/board/jiangba"))
    assert f"蒋坝村 {PAST.label} 积分公示（第1版）" in page
    ends = TODAY + dt.timedelta(days=6)
    assert f"公示期： {TODAY.year}年{TODAY.month}月{TODAY.day}日 至 {ends.year}年{ends.month}月{ends.day}日 公示中" in page
    assert f"对公示内容有异议的，请在 {ends.year}年{ends.month}月{ends.day}日 前（含当天）联系： 村委会 王主任" in page
    assert "光荣榜 户主 小组 户编号 积分 上榜理由 张三 一组" in page
    assert "季度积分排名第1" in page
    assert "臊皮榜" in page and "积分低于基础分（95分）" in page
    assert "排名 户编号 户主 小组 季度积分" in page
    assert f"1 {board.codes['张三']} 张三 一组 108" in page
    assert f"3 {board.codes['赵六']} 赵六 二组 100" in page
    assert "本页地址： http://localhost/board/jiangba" in page


def test_board_says_when_the_notice_period_is_over(board, web):
    board.publish(today=TODAY - dt.timedelta(days=10), notice_days=7)
    page = visible(web.get("/board/jiangba"))
    assert "公示期已结束" in page and "公示中" not in page


@pytest.mark.parametrize(
    ("naming", "shown", "hidden"),
    [("masked", "王*", "王五"), ("group", "三组某户", "王五"), ("full", "王五", None)],
)
def test_black_list_follows_the_villages_naming_choice(board, web, naming, shown, hidden):
    board.publish(black_naming=naming)
    page = visible(web.get("/board/jiangba"))
    assert f"{shown} 三组" in page
    if hidden:
        # Neither the list nor the ranking may give the name or the code away.
        assert hidden not in page and board.codes["王五"] not in page
    # The red list always names in full.
    assert "张三" in page and "李四" in page


def test_board_never_shows_an_id_number_or_a_phone(board, web):
    board.publish(black_naming="full")
    page = text(web.get("/board/jiangba"))
    for _name, _group, _points, idn, phone in PEOPLE:
        for secret in (idn, mask_id_number(idn), idn[-4:], phone, mask_phone(phone), phone[-4:]):
            assert secret not in page


def test_board_refreshes_itself_only_when_asked(board, web):
    board.publish()
    assert 'http-equiv="refresh"' not in text(web.get("/board/jiangba"))
    assert '<meta http-equiv="refresh" content="60">' in text(web.get("/board/jiangba?refresh=60"))
    # A typo cannot make an office screen reload in a frantic loop.
    assert '<meta http-equiv="refresh" content="10">' in text(web.get("/board/jiangba?refresh=1"))
    assert 'http-equiv="refresh"' not in text(web.get("/board/jiangba?refresh=soon"))


def test_lookup_shows_the_households_published_score_lists_and_balance(board, web):
    board.publish()
    response = lookup(web, board.codes["王五"], board.tail("王五"))
    assert response.status_code == 200
    page = visible(response)
    assert "王五户" in page and "三组" in page
    assert "可用积分 -5" in page
    assert f"{PAST.label} 95 第4名 / 共4户" in page
    assert "臊皮榜 积分低于基础分（95分）" in page
    assert response.headers["Cache-Control"] == "no-store"
    # The digits typed are not sent back into the page.
    assert f'value="{board.tail("王五")}"' not in text(response)


def test_lookup_of_a_red_listed_household_names_its_reason(board, web):
    board.publish()
    page = visible(lookup(web, board.codes["张三"], board.tail("张三")))
    assert "可用积分 8" in page and "光荣榜 季度积分排名第1" in page


def test_wrong_tail_and_unknown_code_look_the_same(board, web):
    wrong = lookup(web, board.codes["张三"], "0000")
    unknown = lookup(web, "99999", board.tail("张三"))
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "户编号或身份证号后4位不对，请核对后再查" in text(response)
        assert "张三" not in text(response) and "lookup-result" not in text(response)


def test_lookup_is_refused_with_429_after_five_wrong_tries(board, web):
    code = board.codes["李四"]
    for _ in range(5):
        assert lookup(web, code, "0000").status_code == 200
    response = lookup(web, code, board.tail("李四"))
    assert response.status_code == 429
    assert "查询次数过多，请15分钟后再试" in text(response)
    assert "李四" not in text(response) and "lookup-result" not in text(response)


def test_a_mistyped_tail_is_explained_and_costs_no_try(board, web, app):
    response = lookup(web, board.codes["李四"], "12")
    assert "请填写身份证号的最后4位" in text(response)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(LoginFailure.id))).scalar_one() == 0


def test_lookup_form_needs_its_csrf_token(board, web):
    response = web.client.post("/board/jiangba/lookup", data={"code": board.codes["李四"], "id_tail": board.tail("李四")})
    assert response.status_code == 400


def test_staff_home_page_links_each_villages_board(board, web, make_user):
    make_user("admin1", "admin", slugs=())
    page = text(web.login("admin1"))
    assert 'href="/board/jiangba">公示栏</a>' in page


def test_board_offers_the_lookup_before_the_lists_and_folds_the_ranking_by_group(board, web):
    board.publish()
    page = text(web.get("/board/jiangba"))
    assert page.index("查询本户积分") < page.index('id="red-title"')
    groups = re.findall(r'<details class="ranking-group"[^>]*>\s*<summary><strong>(.*?)</strong> '
                        r'<span class="muted">(.*?)</span>', page)
    assert groups == [("一组", "1 户，最高 108 分"), ("二组", "2 户，最高 105 分"), ("三组", "1 户，最高 95 分")]
    # Printing the board gives the lists: the ranking and the lookup button are screen-only.
    assert '<section class="board-ranking no-print"' in page
    assert '<p class="lookup-cta no-print">' in page


def test_big_screen_pages_through_the_ranking_by_itself_in_large_type(board, web, monkeypatch):
    from villagepoints.web import public

    monkeypatch.setattr(public, "SCREEN_ROWS", 3)
    board.publish()
    first = text(web.get("/board/jiangba?refresh=60"))
    assert '<body class="public big-screen">' in first
    assert '<meta http-equiv="refresh" content="60;url=/board/jiangba?refresh=60&amp;page=2">' in first
    assert "第 1 / 2 页，每 60 秒自动翻页" in first
    assert len(table_rows(first, "ranking")) == 3 and "查询本户积分" not in first
    second = text(web.get("/board/jiangba?refresh=60&page=2"))
    assert len(table_rows(second, "ranking")) == 1
    assert 'content="60;url=/board/jiangba?refresh=60&amp;page=1"' in second  # and round again


def test_ranking_pages_start_over_past_the_end():
    from villagepoints.resident import ranking_page

    rows = [{"rank": n} for n in range(1, 6)]
    assert ranking_page(rows, 2, 2) == ([{"rank": 3}, {"rank": 4}], 2, 3)
    assert ranking_page(rows, 9, 2) == ([{"rank": 1}, {"rank": 2}], 1, 3)
    assert ranking_page([], 1, 2) == ([], 1, 1)


def test_lookup_shows_a_negative_balance_plainly_and_tells_who_has_no_id_where_to_ask(board, web):
    board.publish()
    page = text(lookup(web, board.codes["王五"], board.tail("王五")))
    assert '<dd class="balance negative">-5 分' in page
    assert "扣分多于得分，欠 5 分，暂时不能兑换" in page
    form = text(web.get("/board/jiangba/lookup"))
    assert "没有登记户主身份证号的农户不能在这里查询，请到村委会或找村积分管理小组（村委会 王主任）查询" in form


def test_a_refused_lookup_opens_the_form_with_an_error_summary_linked_to_the_code(board, web):
    page = text(lookup(web, board.codes["张三"], "0000"))
    form = page[page.index('class="card lookup-form'):]
    summary = form.index("data-error-summary")
    assert summary < form.index('name="code"')
    assert '<a href="#code">户编号或身份证号后4位不对，请核对后再查</a>' in form[summary:]
