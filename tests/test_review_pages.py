"""The review queue: reviewers approve or reject pending entries, one or many at once."""
from __future__ import annotations

import re

# The shared fixtures (scheme, other_village) are used by name.
from test_entry_pages import TODAY, Scheme, other_village, scheme, text  # noqa: F401

from villagepoints import households, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.models import Entry, User


def approve(scheme: Scheme, ids, **kwargs):
    return scheme.web.post(
        "/v/jiangba/review/approve", {"ids": [str(i) for i in ids], **scheme.versions(ids), **kwargs},
        follow_redirects=True,
    )


def reject(scheme: Scheme, ids, reason: str, **kwargs):
    return scheme.web.post(
        "/v/jiangba/review/reject",
        {"ids": [str(i) for i in ids], "reason": reason, **scheme.versions(ids), **kwargs}, follow_redirects=True,
    )


def test_queue_shows_pending_entries_with_note_and_clerk(scheme):
    scheme.make("张三", "P01")
    scheme.make("李四", "P02", approve_by="reviewer1")
    scheme.login("reviewer2")
    page = text(scheme.web.get("/v/jiangba/review"))
    assert "待审核 <strong>1</strong> 条" in page
    assert "张三" in page and "李四" not in page
    assert "通过所选" in page and "驳回所选" in page and "clerk1" in page


def test_reviewer_approves_two_at_once(scheme):
    first = scheme.make("张三", "P01")
    second = scheme.make("李四", "P02")
    scheme.make("王五", "P03")
    scheme.login("reviewer1")
    scheme.web.get("/v/jiangba/review")

    page = approve(scheme, [first, second])

    assert "已通过 2 条" in text(page)
    assert [(e["status"], e["reviewer"]) for e in scheme.entries()] == [
        ("approved", "reviewer1"), ("approved", "reviewer1"), ("pending", ""),
    ]
    assert "待审核 <strong>1</strong> 条" in text(page)


def test_nobody_approves_their_own_entry(scheme):
    scheme.login("admin1")
    scheme.enter("张三", "P01")
    [entry] = scheme.entries()
    queue = text(scheme.web.get("/v/jiangba/review"))
    assert "本人录入" in queue
    assert f'name="ids" value="{entry["id"]}"' not in queue  # its box is disabled

    page = text(approve(scheme, [entry["id"]]))
    assert f"积分记录 #{entry['id']}（{scheme.codes['张三']} 张三）是您本人录入的，不能自己审核" in page
    assert scheme.entries()[0]["status"] == "pending"


def test_one_refused_entry_leaves_the_others_unapproved(scheme):
    others = scheme.make("李四", "P02")
    scheme.login("admin1")
    scheme.enter("张三", "P01")
    own = scheme.entries()[-1]["id"]
    assert "不能自己审核" in text(approve(scheme, [others, own]))
    assert [e["status"] for e in scheme.entries()] == ["pending", "pending"]


def test_reject_needs_a_reason_and_keeps_the_ticks(scheme):
    first = scheme.make("张三", "P01")
    second = scheme.make("李四", "P02")
    scheme.login("reviewer1")

    page = text(reject(scheme, [first, second], " "))
    assert "驳回时请写明理由" in page
    assert f'value="{first}" aria-label="选择 #{first}" checked' in page
    assert [e["status"] for e in scheme.entries()] == ["pending", "pending"]

    done = text(reject(scheme, [first, second], "没有参会记录"))
    assert "已驳回 2 条" in done
    assert {(e["status"], e["review_note"]) for e in scheme.entries()} == {("rejected", "没有参会记录")}


def test_nothing_ticked_is_refused_with_a_message(scheme):
    scheme.make("张三", "P01")
    scheme.login("reviewer1")
    assert "请至少选择一条记录" in text(approve(scheme, []))


def test_entries_of_another_village_or_already_reviewed_are_refused(scheme, other_village, app):
    done = scheme.make("张三", "P01", approve_by="reviewer1")
    with app.app_context():
        village = villages.get_by_slug("liushu")
        foreign = ledger.make_entry(
            None, village, households.get_household(village, other_village), rules.rule_by_code(village, "P01"),
            TODAY,
        )
        db.session.commit()
        foreign_id = foreign.id
    scheme.login("reviewer2")
    assert "所选记录不存在或不属于本村" in text(approve(scheme, [foreign_id]))
    assert f"积分记录 #{done}（{scheme.codes['张三']} 张三）已通过审核" in text(approve(scheme, [done]))


def test_queue_filters_by_group_rule_and_clerk(scheme, app):
    scheme.make("张三", "P01", clerk="clerk1")
    scheme.make("李四", "P02", clerk="clerk2")
    scheme.make("王五", "P01", clerk="clerk2")
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        group_one = villages.find_group(village, "一组").id
        clerk2 = db.session.execute(db.select(User.id).filter_by(username="clerk2")).scalar_one()
    scheme.login("reviewer1")

    def listed(query: str) -> set[str]:
        body = text(scheme.web.get(f"/v/jiangba/review?{query}")).split("<tbody>")[-1]
        return {name for name in ("张三", "李四", "王五") if name in body}

    assert listed(f"group={group_one}") == {"张三", "王五"}
    assert listed("rule=P02") == {"李四"}
    assert listed(f"clerk={clerk2}") == {"李四", "王五"}
    assert listed(f"clerk={clerk2}&rule=P01") == {"王五"}
    # The clerk filter offers exactly the users who have entered points in the village.
    with app.app_context():
        ids = dict(db.session.execute(db.select(User.username, User.id)).all())
    page = text(scheme.web.get("/v/jiangba/review"))
    select = page.split('name="clerk"', 1)[1].split("</select>", 1)[0]
    offered = set(re.findall(r'<option value="(\d+)"', select))
    assert offered == {str(ids["clerk1"]), str(ids["clerk2"])}


def test_approving_from_the_entry_page_returns_there(scheme):
    entry_id = scheme.make("张三", "P06")
    scheme.login("reviewer1")
    shown = text(scheme.web.get(f"/v/jiangba/entries/{entry_id}"))
    assert "通过" in shown and "驳回" in shown
    page = scheme.web.post(
        "/v/jiangba/review/approve", {"ids": str(entry_id), "back": "entry", **scheme.versions([entry_id])},
        follow_redirects=True,
    )
    assert page.request.path == f"/v/jiangba/entries/{entry_id}"
    assert "已通过 1 条" in text(page) and "冲正这条记录" in text(page)


def test_clerk_cannot_open_or_use_the_review_queue(scheme):
    entry_id = scheme.make("张三", "P01", clerk="clerk2")
    scheme.login("clerk1")
    assert scheme.web.get("/v/jiangba/review").status_code == 403
    assert scheme.web.post("/v/jiangba/review/approve", {"ids": str(entry_id)}).status_code == 403
    assert scheme.entries()[0]["status"] == "pending"


def test_review_refuses_an_entry_changed_since_the_page_was_opened(scheme):
    entry_id = scheme.make("张三", "P01")
    scheme.login("reviewer1")
    queue = text(scheme.web.get("/v/jiangba/review"))
    shown = re.search(rf'name="version-{entry_id}" value="(\d+)"', queue).group(1)
    # Meanwhile the clerk changes the points on the entry the reviewer is looking at.
    with scheme.app.app_context():
        entry = db.session.get(Entry, entry_id)
        clerk = db.session.execute(db.select(User).filter_by(username="clerk1")).scalar_one()
        ledger.edit_pending(clerk, entry, entry.rule, entry.entry_date, entry.points + 1, "改了分值", today=TODAY)
        db.session.commit()

    page = text(scheme.web.post(
        "/v/jiangba/review/approve", {"ids": str(entry_id), f"version-{entry_id}": shown}, follow_redirects=True
    ))

    assert f"积分记录 #{entry_id}（{scheme.codes['张三']} 张三）在您打开页面后已被修改，请重新查看后再审核" in page
    assert scheme.entries()[0]["status"] == "pending"
    # The page shown again carries the new version, so a second look and click approves.
    assert "已通过 1 条" in text(approve(scheme, [entry_id]))
