"""Applications for points (积分申请): household → clerk → reviewer → counted, and the limits."""
from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter

import pytest
from concurrency import at_once

from villagepoints import applications, cards, ledger, publication, rules, villages
from villagepoints.extensions import db
from villagepoints.models import AuditEntry, Entry, Household, Rule, User, Village
from villagepoints.quarters import Quarter

TODAY = dt.date.today()
PAST = Quarter.of(TODAY).previous()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def visible(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def world(app, make_village, make_household, make_user):
    """A village where P03 (义务劳动, +2, at most 4 a quarter) is open to applications; a clerk and a reviewer."""
    make_village()
    code = make_household(head_name="张三", group="一组", joined_on=dt.date(2020, 1, 1))
    make_user("clerk1", "clerk")
    make_user("reviewer1", "reviewer")
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        p03 = rules.rule_by_code(village, "P03")
        p03.open_to_applications = True
        p03.quarter_cap = 4
        household = db.session.execute(db.select(Household).filter_by(code=code)).scalar_one()
        token = cards.reissue(None, household).token
        db.session.commit()
        return {"code": code, "token": token, "household": household.id, "village": village.id, "rule": p03.id}


def apply_web(web, world, **fields):
    data = {"rule": world["rule"], "entry_date": TODAY.isoformat(), "note": "清理村口水沟", **fields}
    page = web.get(f"/h/{world['token']}")
    assert page.status_code == 200
    return web.post(f"/h/{world['token']}/apply", data, content_type="multipart/form-data", follow_redirects=True)


def test_an_application_goes_household_clerk_reviewer_and_is_then_counted(app, world, web):
    before = visible(web.get(f"/h/{world['token']}"))
    assert "可用积分 0" in before
    done = apply_web(web, world, photos=(io.BytesIO(PNG), "劳动.png"))
    assert "已提交申请" in visible(done) and "申请待核实" in visible(done)
    assert "可用积分 0" in visible(done)

    clerk = web.__class__(app.test_client())
    clerk.login("clerk1")
    queue = clerk.get("/v/jiangba/applications")
    assert "清理村口水沟" in visible(queue) and "照片1" in visible(queue)
    with app.app_context():
        entry = db.session.execute(db.select(Entry)).scalar_one()
        assert (entry.status, entry.points, len(entry.photos)) == ("applied", 2, 1)
        entry_id = entry.id
    clerk.post(f"/v/jiangba/applications/{entry_id}/accept", {"points": "2"})
    assert "没有待核实的申请" in visible(clerk.get("/v/jiangba/applications"))
    assert "待审核" in visible(web.get(f"/h/{world['token']}"))

    reviewer = web.__class__(app.test_client())
    reviewer.login("reviewer1")
    reviewer.get("/v/jiangba/review")
    with app.app_context():
        version = db.session.get(Entry, entry_id).version
    reviewer.post("/v/jiangba/review/approve", {"ids": str(entry_id), f"version-{entry_id}": str(version)})
    with app.app_context():
        assert db.session.get(Entry, entry_id).status == "approved"
        assert db.session.get(Entry, entry_id).created_by_name == "clerk1"
    after = visible(web.get(f"/h/{world['token']}"))
    assert "可用积分 2" in after and "已通过" in after


def test_the_clerk_who_accepted_an_application_cannot_approve_it(app, world, ctx):
    household = db.session.get(Household, world["household"])
    rule = db.session.get(Rule, world["rule"])
    entry = applications.apply(household, rule, TODAY, "扫雪", storage_root=app.instance_path)
    clerk = db.session.execute(db.select(User).filter_by(username="clerk1")).scalar_one()
    applications.accept(clerk, entry)
    with pytest.raises(ledger.SelfReview):
        ledger.approve(clerk, [entry])


def test_a_declined_application_shows_its_reason_on_the_household_page(app, world, web):
    apply_web(web, world)
    with app.app_context():
        entry_id = db.session.execute(db.select(Entry.id)).scalar_one()
    clerk = web.__class__(app.test_client())
    clerk.login("clerk1")
    clerk.get("/v/jiangba/applications")
    no_reason = clerk.post(f"/v/jiangba/applications/{entry_id}/decline", {"reason": ""}, follow_redirects=True)
    assert "请写明不通过的理由" in visible(no_reason)
    # The refusal opens the decline form of that application with its error summary.
    raw = no_reason.get_data(as_text=True)
    form = raw[raw.index(f'action="/v/jiangba/applications/{entry_id}/decline"'):]
    assert form.index("data-error-summary") < form.index(f'id="reason-{entry_id}"')
    assert f'<a href="#reason-{entry_id}">积分申请 #{entry_id}：请写明不通过的理由' in form
    clerk.post(f"/v/jiangba/applications/{entry_id}/decline", {"reason": "当天没有组织义务劳动"})
    page = visible(web.get(f"/h/{world['token']}"))
    assert "申请未通过" in page and "未通过的理由：当天没有组织义务劳动" in page
    with app.app_context():
        assert db.session.execute(db.select(AuditEntry.action).order_by(AuditEntry.id.desc())).scalars().first() \
            == "application.decline"
        assert ledger.balance(world["household"]) == 0


def test_only_plus_rules_open_to_applications_can_be_applied_for(app, world, ctx):
    household = db.session.get(Household, world["household"])
    village = db.session.get(Village, world["village"])
    for code in ("M01", "P01"):
        with pytest.raises(applications.ApplicationError, match="开放申请的加分项"):
            applications.apply(household, rules.rule_by_code(village, code), TODAY, "说明", storage_root=app.instance_path)


def test_a_minus_rule_cannot_be_opened_to_applications(app, world, ctx):
    village = db.session.get(Village, world["village"])
    m01 = rules.rule_by_code(village, "M01")
    fields = rules.fields_of(m01)
    fields.open_to_applications = True
    with pytest.raises(rules.RuleError, match="只有加分细则"):
        rules.update_rule(None, m01, fields)


def test_the_rule_page_opens_a_rule_to_applications(app, world, web, make_user):
    make_user("admin1", "admin")
    web.login("admin1")
    with app.app_context():
        p05 = rules.rule_by_code(villages.get_by_slug("jiangba"), "P05")
        data = {k: getattr(p05, k) for k in ("code", "kind", "title", "default_points", "min_points", "max_points",
                                             "sort_order")}
        rule_id = p05.id
    web.get(f"/v/jiangba/rules/{rule_id}/edit")
    web.post(f"/v/jiangba/rules/{rule_id}/edit", {**data, "active": "y", "open_to_applications": "y"})
    assert "开放申请" in visible(web.get("/v/jiangba/rules"))
    with app.app_context():
        assert db.session.get(Rule, rule_id).open_to_applications is True
    assert "调解邻里矛盾" in visible(web.get(f"/h/{world['token']}"))


def test_applications_obey_caps_and_quarter_locks_like_any_entry(app, world, ctx):
    household = db.session.get(Household, world["household"])
    village = db.session.get(Village, world["village"])
    rule = db.session.get(Rule, world["rule"])
    ledger.make_entry(None, village, household, rule, TODAY, 4, approve=True)
    with pytest.raises(ledger.CapExceeded, match="每季度上限 4 分"):
        applications.apply(household, rule, TODAY, "又一次", storage_root=app.instance_path)
    publication.publish(None, village, PAST, contact="村委会", today=TODAY)
    with pytest.raises(ledger.QuarterLocked, match="已公示"):
        applications.apply(household, rule, PAST.last_day, "上季度的事", storage_root=app.instance_path)
    with pytest.raises(ledger.FutureDate):
        applications.apply(household, rule, TODAY + dt.timedelta(days=1), "明天的事", storage_root=app.instance_path)


def test_a_household_may_apply_three_times_a_day(app, world, web):
    for i in range(3):
        assert "已提交申请" in visible(apply_web(web, world, note=f"第{i + 1}次"))
    refused = apply_web(web, world, note="第4次")
    assert "每户24小时内最多申请3次" in visible(refused)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Entry.id))).scalar_one() == 3


def test_the_public_form_needs_its_csrf_token(app, world, web):
    web.get(f"/h/{world['token']}")
    response = web.client.post(f"/h/{world['token']}/apply", data={
        "rule": world["rule"], "entry_date": TODAY.isoformat(), "note": "伪造", "csrf_token": "bad",
    })
    assert response.status_code == 400
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Entry.id))).scalar_one() == 0


def test_a_revoked_card_cannot_apply(app, world, web):
    web.get(f"/h/{world['token']}")
    with app.app_context():
        cards.reissue(None, db.session.get(Household, world["household"]))
        db.session.commit()
    response = web.post(f"/h/{world['token']}/apply", {"rule": world["rule"], "entry_date": TODAY.isoformat(),
                                                       "note": "x"})
    assert response.status_code == 404


def test_two_phones_applying_at_once_never_pass_the_daily_limit(app, world):
    """Two applications made at once when one is left: the household's row lock lets only one in."""
    with app.app_context():
        household = db.session.get(Household, world["household"])
        rule = db.session.get(Rule, world["rule"])
        for note in ("一", "二"):
            applications.apply(household, rule, TODAY, note, storage_root=app.instance_path)
        db.session.commit()
    def act(note):
        household = db.session.get(Household, world["household"])
        rule = db.session.get(Rule, world["rule"])
        return lambda: applications.apply(household, rule, TODAY, note, storage_root=app.instance_path)

    outcomes = at_once(app, [f"同时{i}" for i in range(4)], act, what="an application",
                       refusals=(applications.ApplicationError,))
    assert Counter(outcomes) == {"ok": 1, "TooManyApplications": 3}
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Entry.id))).scalar_one() == 3


def test_a_refused_application_opens_the_form_with_an_error_summary_linked_to_the_field(app, world, web):
    page = apply_web(web, world, entry_date="").get_data(as_text=True)
    form = page[page.index('class="apply-form"'):]
    summary = form.index("data-error-summary")
    assert summary < form.index('name="rule"')
    assert '<a href="#entry_date">' in form[summary:form.index("</ul>")]


@pytest.fixture
def waiting(app, world, make_user):
    """Two applications dated this quarter and one dated last quarter, all waiting; an admin and a reviewer."""
    make_user("admin1", "admin", slugs=())
    with app.app_context():
        household = db.session.get(Household, world["household"])
        rule = db.session.get(Rule, world["rule"])
        for day, note in ((TODAY, "清理水沟"), (TODAY, "打扫祠堂"), (PAST.last_day, "上季度修路")):
            applications.apply(household, rule, day, note, storage_root=app.instance_path, today=TODAY)
        db.session.commit()
    return world


def publish_step(web, quarter: Quarter):
    web.get(f"/v/jiangba/quarters/{quarter}")
    return web.post(f"/v/jiangba/quarters/{quarter}/publish", {"notice_days": "7", "contact": "村委会"})


def test_the_publish_page_says_how_many_applications_wait_and_links_to_them(app, waiting, web):
    this = Quarter.of(TODAY)
    web.login("admin1")
    page = publish_step(web, this)
    shown = visible(page)
    assert f"还有 2 条积分申请待核实。 {this.label}还有 2 条农户积分申请待核实" in shown
    assert "公示后这些申请不能再转为积分记录，只能不通过" in shown
    link = f'href="/v/jiangba/applications?quarter={this}"'
    assert link in page.get_data(as_text=True)
    listed = visible(web.get(f"/v/jiangba/applications?quarter={this}"))
    assert "清理水沟" in listed and "打扫祠堂" in listed and "上季度修路" not in listed
    assert f"申请待核实 · {this.label} （2 条）" in listed


def test_the_quarter_filtered_queue_stays_filtered_after_an_accept_and_a_refused_decline(app, waiting, web):
    this = Quarter.of(TODAY)
    web.login("clerk1")
    page = web.get(f"/v/jiangba/applications?quarter={this}").get_data(as_text=True)
    actions = re.findall(r'action="(/v/jiangba/applications/\d+/(?:accept|decline)[^"]*)"', page)
    assert actions and all(a.endswith(f"?quarter={this}") for a in actions)
    accept = next(a for a in actions if "/accept" in a)
    done = web.post(accept, {"points": "2"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/v/jiangba/applications?quarter={this}")
    decline = next(a for a in actions if "/decline" in a and a.split("/")[4] != accept.split("/")[4])
    refused = visible(web.post(decline, {"reason": ""}))
    assert f"申请待核实 · {this.label} （1 条）" in refused and "上季度修路" not in refused


def test_the_publish_page_of_a_reviewer_names_the_queue_the_clerks_work_from(app, waiting, web):
    web.login("reviewer1")
    shown = visible(publish_step(web, PAST))
    assert f"还有 1 条积分申请待核实。 {PAST.label}还有 1 条农户积分申请待核实" in shown
    assert "请录入员先在“申请待核实”页面核实这些申请" in shown


def test_the_publish_page_says_nothing_of_applications_once_none_wait(app, world, web, make_user):
    make_user("admin1", "admin", slugs=())
    web.login("admin1")
    shown = visible(publish_step(web, Quarter.of(TODAY)))
    assert "确认公示" in shown and "积分申请待核实" not in shown


def test_cli_publish_warns_of_the_quarters_waiting_applications(app, waiting, runner):
    this = Quarter.of(TODAY)
    with app.app_context():
        clerk = db.session.execute(db.select(User).filter_by(username="clerk1")).scalar_one()
        applications.decline(clerk, applications.queue(villages.get_by_slug("jiangba"), PAST)[0], "没有这回事")
        db.session.commit()
    quiet = runner.invoke(args=["publish", "--village", "jiangba", "--quarter", str(PAST), "--contact", "村委会"])
    assert quiet.exit_code == 0, quiet.output
    assert "已公示" in quiet.output and "注意" not in quiet.output
    warned = runner.invoke(args=["publish", "--village", "jiangba", "--quarter", str(this), "--contact", "村委会"])
    assert warned.exit_code == 0, warned.output
    assert f"注意：{this.label}还有 2 条农户积分申请待核实（申请日期在本季度内）。" in warned.output
    assert f"/v/jiangba/applications?quarter={this}" in warned.output


@pytest.fixture
def one_application(app, world, make_user):
    """One waiting application and a second clerk: two clerks may answer it at once."""
    make_user("clerk2", "clerk")
    with app.app_context():
        household = db.session.get(Household, world["household"])
        rule = db.session.get(Rule, world["rule"])
        entry = applications.apply(household, rule, TODAY, "清理水沟", storage_root=app.instance_path, today=TODAY)
        db.session.commit()
        return {**world, "entry": entry.id}


def test_accept_racing_decline_on_the_same_application_lets_exactly_one_through(app, one_application):
    """Two clerks answer the same application at the same moment: one wins, the other is told it is handled."""

    def act(job):
        username, action = job
        clerk = db.session.execute(db.select(User).filter_by(username=username)).scalar_one()
        entry = db.session.get(Entry, one_application["entry"])
        if action == "accept":
            return lambda: applications.accept(clerk, entry, today=TODAY)
        return lambda: applications.decline(clerk, entry, "当天没有组织义务劳动")

    outcomes = at_once(app, [("clerk1", "accept"), ("clerk2", "decline")], act, what="accept and decline")
    assert sorted(outcomes) == ["NotAnApplication", "ok"]
    with app.app_context():
        entry = db.session.get(Entry, one_application["entry"])
        won = "accept" if outcomes[0] == "ok" else "decline"
        assert entry.status == ("pending" if won == "accept" else "declined")
        actions = db.session.execute(
            db.select(AuditEntry.action).where(AuditEntry.action.like("application.%")).order_by(AuditEntry.id)
        ).scalars().all()
        assert actions == ["application.create", f"application.{won}"]


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_answering_an_application_locks_its_entry_before_its_household(app, one_application, ctx, monkeypatch,
                                                                        action):
    """The order every action on entries keeps (ledger.lock_entries), so no two of them can deadlock."""
    locked: list[str] = []
    real = ledger.lock_rows

    def recording(model, ids, **kwargs):
        locked.append(model.__tablename__)
        return real(model, ids, **kwargs)

    monkeypatch.setattr(ledger, "lock_rows", recording)
    clerk = db.session.execute(db.select(User).filter_by(username="clerk1")).scalar_one()
    entry = db.session.get(Entry, one_application["entry"])
    if action == "accept":
        applications.accept(clerk, entry, today=TODAY)
    else:
        applications.decline(clerk, entry, "不属实")
    assert locked == ["entries", "households"]
