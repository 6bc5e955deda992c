"""The days a calendar makes hard: quarter and year ends, quarter starts, 29 February.

On each day the clock travels there (time-machine) and a village goes through what its
people do on any day: the demo loads its whole story, the quarter pages and the year view
open, the reviewer clears the queue and the quarter is published, the store keeper
redeems, and last-but-one year's points expire. Nothing is passed a date: the app takes
"today" from the clock, as it does in the field.
"""
from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
import time_machine

from conftest import BEIJING, PASSWORD
from villagepoints import demo_data, households, ledger, rules, store, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields
from villagepoints.models import PointsExpiry, Redemption
from villagepoints.quarters import Quarter

# The first and last day of every quarter of a leap year, 1 January and 31 December among
# them, 29 February, and the day this list was written.
HARD_DAYS = [
    dt.date(2028, 1, 1), dt.date(2028, 2, 29), dt.date(2028, 3, 31),
    dt.date(2028, 4, 1), dt.date(2028, 6, 30), dt.date(2028, 7, 1),
    dt.date(2028, 9, 30), dt.date(2028, 10, 1), dt.date(2028, 12, 31),
    dt.date(2026, 12, 1),
]
SLUG = demo_data.DEMO_SLUG
HOUSEHOLDS = 12


def text(response) -> str:
    return response.get_data(as_text=True)


class _FormFields(HTMLParser):
    """What a browser sends for one form: its hidden fields and every enabled checkbox ticked."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = (a.get("action") or "").split("?")[0] == self.action
        elif tag == "input" and self.inside and a.get("name") and "disabled" not in a:
            if a.get("type") == "hidden" or a.get("type") == "checkbox":
                self.fields.append((a["name"], a.get("value", "on")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def tick_everything(page: str, action: str) -> list[tuple[str, str]]:
    parser = _FormFields(action)
    parser.feed(page)
    return parser.fields


@pytest.fixture(params=HARD_DAYS, ids=str)
def day(request):
    with time_machine.travel(dt.datetime.combine(request.param, dt.time(9, 30), BEIJING), tick=True):
        assert dt.date.today() == request.param
        yield request.param


def _load_demo(app):
    with app.app_context():
        result = demo_data.load_demo(None, PASSWORD, households_count=HOUSEHOLDS)
        db.session.commit()
        return result.published, result.pending, result.redemptions


def test_every_hard_day_runs_the_whole_scheme(app, web, runner, make_user, day):
    quarter, last_quarter = Quarter.of(day), Quarter.of(day).previous()
    published, pending, redemptions = _load_demo(app)
    # The same story on every day: last quarter published, this one in motion, a used store.
    assert published == str(last_quarter)
    assert pending > 0 and redemptions > 0

    web.login(f"{SLUG}-reviewer")
    listing = text(web.get(f"/v/{SLUG}/quarters"))
    assert quarter.label in listing and last_quarter.label in listing
    for q in (quarter, last_quarter):
        page = web.get(f"/v/{SLUG}/quarters/{q}")
        assert page.status_code == 200 and q.label in text(page)
    year = web.get(f"/v/{SLUG}/years/{day.year}")
    assert year.status_code == 200 and f"{day.year}" in text(year)

    # The reviewer clears the queue as the page offers it, then the quarter is published.
    queue = web.get(f"/v/{SLUG}/review")
    fields = tick_everything(text(queue), f"/v/{SLUG}/review/approve")
    assert sum(1 for name, _ in fields if name != "csrf_token") >= pending
    approved = web.client.post(f"/v/{SLUG}/review/approve", data=_multi(fields))
    assert approved.status_code == 302
    assert "待审核 <strong>0</strong> 条" in text(web.get(f"/v/{SLUG}/review"))
    result = runner.invoke(args=["publish", "--village", SLUG, "--quarter", str(quarter), "--contact", "村委会 王主任"])
    assert result.exit_code == 0, result.output
    assert f"公示期 {day}" in result.output
    shown = text(web.get(f"/v/{SLUG}/quarters/{quarter}"))
    assert "第1版" in shown and quarter.label in shown

    # The store keeper redeems a bar of soap for a household that can pay.
    make_user("keeper", "storekeeper", slugs=(SLUG,))
    with app.app_context():
        village = villages.get_by_slug(SLUG)
        soap = next(i for i in store.village_items(village) if i.name == "香皂")
        buyer = next(h for h in households_of(village) if store.spendable(h) >= soap.price)
        code, before, soap_id = buyer.code, store.spendable(buyer), soap.id
    web.client.post("/logout", data={"csrf_token": web.token})
    web.login("keeper")
    counter = web.get(f"/v/{SLUG}/store/redeem?household={code}")
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', text(counter)).group(1)
    done = web.post(f"/v/{SLUG}/store/redeem", {"household": code, "token": token, "action": "confirm",
                                                f"qty_{soap_id}": "1"})
    assert done.status_code == 302
    receipt = text(web.get(done.headers["Location"]))
    assert f"DH{day.year}-" in receipt
    with app.app_context():
        made = db.session.execute(db.select(Redemption).order_by(Redemption.id.desc())).scalars().first()
        assert made.redeemed_on == day
        assert store.spendable(households.get_household(villages.get_by_slug(SLUG), code)) == before - 5


def test_points_from_the_year_before_last_expire_on_every_hard_day(app, runner, day):
    _load_demo(app)
    with app.app_context():
        village = villages.get_by_slug(SLUG)
        store.set_points_expire(None, village, True)
        home = households.create_household(
            None, village, HouseholdFields(head_name="过期户", joined_on=dt.date(2020, 1, 1)))
        plus = next(r for r in rules.village_rules(village) if r.is_plus)
        old, recent = dt.date(day.year - 2, 6, 15), dt.date(day.year - 1, 12, 31)
        ledger.record_checked(None, village, [(home, plus, old, 7, "两年前"), (home, plus, recent, 3, "去年底")],
                              source="import", approve=True)
        db.session.commit()
        home_id = home.id

    result = runner.invoke(args=["expire-points", "--village", SLUG])
    assert result.exit_code == 0, result.output
    assert f"{day.year - 2}年及以前获得" in result.output

    with app.app_context():
        written = db.session.execute(db.select(PointsExpiry).where(PointsExpiry.household_id == home_id)).scalars().all()
        assert [(w.points_year, w.points, w.expired_on) for w in written] == [
            (day.year - 2, 7, dt.date(day.year - 1, 12, 31))
        ]
        assert store.spendable(db.session.get(type(home), home_id)) == 3
    # Safe to run again on the same day: nothing more expires.
    again = runner.invoke(args=["expire-points", "--village", SLUG])
    assert again.exit_code == 0 and "共作废 0 分" in again.output


def households_of(village):
    return db.session.execute(households.register_query(village)).scalars().all()


def _multi(fields: list[tuple[str, str]]):
    from werkzeug.datastructures import MultiDict

    return MultiDict(fields)
