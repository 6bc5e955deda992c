"""A clerk's day (issue 12): landing by role, rejected entries back to their clerk, one tap to 记分."""
from __future__ import annotations

import datetime as dt
import re

import pytest

# The shared fixtures (scheme) are used by name.
from test_entry_pages import PNG, Scheme, input_value, scheme, text  # noqa: F401

from villagepoints import households, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.models import AuditEntry, Entry, EntryPhoto, User

DAY = dt.date(2026, 6, 1)


def make(scheme: Scheme, name: str, clerk: str = "clerk1", note: str = "打扫村道") -> int:
    with scheme.app.app_context():
        village = villages.get_by_slug("jiangba")
        actor = db.session.execute(db.select(User).filter_by(username=clerk)).scalar_one()
        household = households.get_household(village, scheme.codes[name])
        entry = ledger.make_entry(actor, village, household, rules.rule_by_code(village, "P01"), DAY, note=note,
                                  evidence=True)
        db.session.commit()
        return entry.id


def reject(scheme: Scheme, ids: list[int], reason: str, by: str = "reviewer1") -> None:
    with scheme.app.app_context():
        reviewer = db.session.execute(db.select(User).filter_by(username=by)).scalar_one()
        entries = db.session.execute(db.select(Entry).where(Entry.id.in_(ids)).order_by(Entry.id)).scalars()
        ledger.reject(reviewer, list(entries), reason)
        db.session.commit()


@pytest.mark.parametrize("username, landing", [
    ("reviewer1", "/v/jiangba/review"),
    ("clerk1", "/v/jiangba/households"),
    ("viewer1", "/v/jiangba/households"),
])
def test_each_role_lands_on_its_work_after_login(scheme, username, landing):
    response = scheme.web.post("/login", {"username": username, "password": "correct-horse-9"})
    assert response.headers["Location"] == "/"
    assert scheme.web.get("/").headers["Location"] == landing


def test_storekeeper_lands_on_the_store(scheme, make_user):
    make_user("keeper1", "storekeeper")
    scheme.login("keeper1")
    assert scheme.web.get("/").headers["Location"] == "/v/jiangba/store"


def test_rejected_entries_reach_their_clerk_with_reason_and_a_prefilled_resubmission(scheme):
    first, second, _other = make(scheme, "张三"), make(scheme, "李四"), make(scheme, "王五", clerk="clerk2")
    reject(scheme, [first, second, _other], "照片看不清，请补拍")
    scheme.login("clerk1")
    home = text(scheme.web.get("/v/jiangba/households"))
    assert "有 <strong>2 条被驳回</strong>" in home  # clerk2's rejection is not clerk1's to correct

    listed = text(scheme.web.get("/v/jiangba/entries/rejected"))
    assert listed.count("驳回理由：<strong>照片看不清，请补拍</strong>") == 2
    assert f'href="/v/jiangba/entries/new?resubmit={first}"' in listed

    form = scheme.web.get(f"/v/jiangba/entries/new?resubmit={first}")
    assert "改正后重新提交积分记录 #" in text(form) and "照片看不清，请补拍" in text(form)
    assert input_value(form, "household") == scheme.codes["张三"]
    assert input_value(form, "resubmits") == str(first)
    assert input_value(form, "entry_date") == DAY.isoformat()
    assert "打扫村道</textarea>" in text(form)

    saved = scheme.enter("张三", "P01", entry_date=DAY.isoformat(), note="打扫村道（补拍）",
                         resubmits=str(first), token=input_value(form, "token"))
    assert "已为 张三 记" in text(saved)
    assert "有 <strong>1 条被驳回</strong>" in text(scheme.web.get("/v/jiangba/households"))
    with scheme.app.app_context():
        again = db.session.execute(db.select(Entry).filter_by(resubmits_id=first)).scalar_one()
        assert (again.status, again.note) == ("pending", "打扫村道（补拍）")


def test_an_entry_is_resubmitted_once_and_only_by_its_own_clerk(scheme, ctx):
    first = make(scheme, "张三")
    reject(scheme, [first], "分值不对")
    village = villages.get_by_slug("jiangba")
    clerk1, clerk2 = (db.session.execute(db.select(User).filter_by(username=u)).scalar_one() for u in ("clerk1", "clerk2"))
    rejected = db.session.get(Entry, first)
    household, rule = rejected.household, rules.rule_by_code(village, "P01")
    with pytest.raises(ledger.NotResubmittable, match="不是您录入的"):
        ledger.make_entry(clerk2, village, household, rule, DAY, evidence=True, resubmits=rejected)
    ledger.make_entry(clerk1, village, household, rule, DAY, evidence=True, resubmits=rejected)
    with pytest.raises(ledger.NotResubmittable, match="已经重新提交过"):
        ledger.make_entry(clerk1, village, household, rule, DAY, evidence=True, resubmits=rejected)
    assert ledger.rejected_count(clerk1, village) == 0


def test_record_points_from_a_household_or_the_register_opens_with_it_chosen(scheme):
    scheme.login("clerk1")
    code = scheme.codes["李四"]
    page = text(scheme.web.get(f"/v/jiangba/households/{code}"))
    assert f'href="/v/jiangba/entries/new?household={code}"' in page
    register = text(scheme.web.get("/v/jiangba/households"))
    assert f'href="/v/jiangba/entries/new?household={code}" aria-label="为李四记分"' in register
    form = scheme.web.get(f"/v/jiangba/entries/new?household={code}")
    assert input_value(form, "household") == code
    assert re.search(r'id="household-chosen"[^>]*>李四（' + code, text(form))


def test_viewers_see_no_record_points_action_on_the_register(scheme):
    scheme.login("viewer1")
    assert "为张三记分" not in text(scheme.web.get("/v/jiangba/households"))


def test_a_rejected_entry_the_clerk_will_not_correct_leaves_the_count(scheme):
    first, second = make(scheme, "张三"), make(scheme, "李四")
    reject(scheme, [first, second], "这户本季度已记过")
    scheme.login("clerk1")
    assert "有 <strong>2 条被驳回</strong>" in text(scheme.web.get("/v/jiangba/households"))
    listed = scheme.web.get("/v/jiangba/entries/rejected")
    assert f'action="/v/jiangba/entries/{first}/dismiss"' in text(listed)

    done = scheme.web.post(f"/v/jiangba/entries/{first}/dismiss", {"csrf_token": input_value(listed, "csrf_token")},
                           follow_redirects=True)
    assert f"积分记录 #{first} 已标记为不再提交" in text(done)
    assert f"resubmit={first}" not in text(done) and f"resubmit={second}" in text(done)
    assert "有 <strong>1 条被驳回</strong>" in text(scheme.web.get("/v/jiangba/households"))
    again = scheme.web.post(f"/v/jiangba/entries/{first}/dismiss", {"csrf_token": input_value(listed, "csrf_token")},
                            follow_redirects=True)
    assert "已标记为不再提交" in text(again)
    with scheme.app.app_context():
        row = db.session.execute(db.select(AuditEntry).filter_by(action="entry.dismiss")).scalar_one()
        assert row.target.startswith(f"积分记录 #{first} ")
        assert db.session.get(Entry, first).status == "rejected"  # still rejected, never counted


def test_only_its_own_clerk_dismisses_a_rejected_entry_and_not_after_resubmitting(scheme, ctx):
    first = make(scheme, "张三")
    reject(scheme, [first], "分值不对")
    village = villages.get_by_slug("jiangba")
    clerk1, clerk2 = (db.session.execute(db.select(User).filter_by(username=u)).scalar_one() for u in ("clerk1", "clerk2"))
    rejected = db.session.get(Entry, first)
    with pytest.raises(ledger.NotResubmittable, match="不是您录入的"):
        ledger.dismiss_rejected(clerk2, rejected)
    ledger.make_entry(clerk1, village, rejected.household, rules.rule_by_code(village, "P01"), DAY, evidence=True,
                      resubmits=rejected)
    with pytest.raises(ledger.NotResubmittable, match="已经重新提交过"):
        ledger.dismiss_rejected(clerk1, rejected)


def test_a_resubmitted_entry_keeps_the_rejected_entrys_photos_without_copying_the_files(scheme):
    scheme.login("clerk1")
    scheme.enter("张三", "P01", entry_date=DAY.isoformat(), photos=[("门口.png", PNG), ("村道.png", PNG)])
    with scheme.app.app_context():
        first = db.session.execute(db.select(Entry.id).order_by(Entry.id.desc())).scalars().first()
    reject(scheme, [first], "分值不对")

    form = scheme.web.get(f"/v/jiangba/entries/new?resubmit={first}")
    ticked = re.findall(r'<input type="checkbox" id="keep_photos-\d" name="keep_photos" value="(\d+)" checked>', text(form))
    assert len(ticked) == 2 and "原来的照片会随记录一起提交" in text(form)

    scheme.enter("张三", "P01", entry_date=DAY.isoformat(), note="改正", resubmits=str(first),
                 token=input_value(form, "token"), keep_photos=ticked)
    with scheme.app.app_context():
        again = db.session.execute(db.select(Entry).filter_by(resubmits_id=first)).scalar_one()
        old = db.session.get(Entry, first)
        assert sorted(p.stored_name for p in again.photos) == sorted(p.stored_name for p in old.photos)
        assert len({p.stored_name for p in again.photos}) == 2
        assert db.session.execute(db.select(db.func.count(db.distinct(EntryPhoto.stored_name)))).scalar_one() == 2
        new_ids = [p.id for p in again.photos]
    shown = text(scheme.web.get(f"/v/jiangba/entries/{again.id}"))
    assert all(f"/v/jiangba/photos/{pid}" in shown for pid in new_ids)
    served = scheme.web.get(f"/v/jiangba/photos/{new_ids[0]}")
    assert served.data == PNG
    served.close()


def test_a_resubmission_drops_the_photos_the_clerk_unticks_and_adds_new_ones(scheme):
    scheme.login("clerk1")
    scheme.enter("张三", "P01", entry_date=DAY.isoformat(), photos=[("门口.png", PNG), ("村道.png", PNG)])
    with scheme.app.app_context():
        first = db.session.execute(db.select(Entry.id).order_by(Entry.id.desc())).scalars().first()
        kept_name, kept_id = db.session.execute(
            db.select(EntryPhoto.stored_name, EntryPhoto.id).order_by(EntryPhoto.id)
        ).first()
    reject(scheme, [first], "照片不全")
    form = scheme.web.get(f"/v/jiangba/entries/new?resubmit={first}")
    scheme.enter("张三", "P01", entry_date=DAY.isoformat(), resubmits=str(first), token=input_value(form, "token"),
                 keep_photos=[str(kept_id)], photos=[("补拍.png", PNG)])
    with scheme.app.app_context():
        again = db.session.execute(db.select(Entry).filter_by(resubmits_id=first)).scalar_one()
        names = [p.stored_name for p in again.photos]
        assert len(names) == 2 and kept_name in names
