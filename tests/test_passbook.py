"""The passbook (积分存折): a household's yearly statement, balance by balance."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from store_world import build, earn, home, item
from villagepoints import cards, passbook, publication, store
from villagepoints.extensions import db
from villagepoints.models import Household
from villagepoints.quarters import Quarter

TODAY = dt.date.today()
YEAR = TODAY.year


def visible(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def book_world(app):
    """张三: 30 points last year; this year +20 in Q1, -5 in Q2, 15 spent in Q3, a voided redemption."""
    with app.app_context():
        village, keeper = build()
        zhang = home(village, "张三")
        earn(village, zhang, 30, dt.date(YEAR - 1, 6, 1))
        earn(village, zhang, 20, dt.date(YEAR, 2, 10))
        earn(village, zhang, -5, dt.date(YEAR, 5, 3))
        soap = item(village, "肥皂", 15, stock=10)
        store.redeem(keeper, village, zhang, {soap.id: 1}, today=dt.date(YEAR, 8, 1))
        voided = store.redeem(keeper, village, zhang, {soap.id: 1}, today=dt.date(YEAR, 8, 2))
        store.void(keeper, voided, "拿错了", today=dt.date(YEAR, 8, 2))
        publication.publish(None, village, Quarter(YEAR, 1), contact="村委会", today=TODAY)
        db.session.commit()
        return {"household": zhang.id, "code": zhang.code, "keeper": keeper.username}


def test_passbook_runs_from_the_opening_to_the_closing_balance(app, book_world, ctx):
    household = db.session.get(Household, book_world["household"])
    book = passbook.passbook(household, YEAR, today=TODAY)
    assert book.opening == 30
    assert [(line.day, line.points, line.balance) for line in book.lines] == [
        (dt.date(YEAR, 2, 10), 20, 50),
        (dt.date(YEAR, 5, 3), -5, 45),
        (dt.date(YEAR, 8, 1), -15, 30),
    ]
    assert "兑换" in book.lines[-1].what
    assert book.closing == 30 == store.spendable(household, TODAY)


def test_passbook_gives_each_quarter_its_score_and_the_published_rank_and_lists(app, book_world, ctx):
    household = db.session.get(Household, book_world["household"])
    book = passbook.passbook(household, YEAR, today=TODAY)
    q1, q2 = book.quarters[0], book.quarters[1]
    assert (q1.score, q1.rank, q1.published) == (120, 1, True)
    assert "季度积分排名第1" in "".join(q1.red)
    assert (q2.score, q2.rank, q2.published) == (95, None, False)
    assert len(book.quarters) == Quarter.of(TODAY).number


def test_last_years_passbook_closes_where_this_years_opens(app, book_world, ctx):
    household = db.session.get(Household, book_world["household"])
    last = passbook.passbook(household, YEAR - 1, today=TODAY)
    assert (last.opening, last.closing) == (0, 30)
    assert passbook.passbook(household, YEAR, today=TODAY).opening == last.closing


def test_passbook_prints_for_staff_and_from_the_households_card(app, book_world, web):
    web.login(book_world["keeper"], "keeper-pass-1")
    staff = web.get(f"/v/jiangba/households/{book_world['code']}/passbook?year={YEAR}")
    assert staff.status_code == 200
    words = visible(staff)
    assert f"{YEAR}年" in words and "上年结转（期初余额） 30" in words and "期末余额 30" in words
    with app.app_context():
        token = cards.reissue(None, db.session.get(Household, book_world["household"])).token
        db.session.commit()
    own = app.test_client().get(f"/h/{token}/passbook")
    assert own.status_code == 200 and "期末余额 30" in visible(own)
    assert own.headers["Referrer-Policy"] == "no-referrer"
    assert app.test_client().get("/h/unknown-token/passbook").status_code == 404
