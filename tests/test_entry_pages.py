"""Entering points on the web: single entry, photos, bulk entry, edit, withdraw, reversal."""
from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zlib
from pathlib import Path

import pytest

from villagepoints import households, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.models import AuditEntry, Entry, EntryPhoto, User


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png() -> bytes:
    """Return a valid 1x1 white PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels) + _png_chunk(b"IEND", b"")


PNG = tiny_png()
TODAY = dt.date.today()


def text(response) -> str:
    return response.get_data(as_text=True)


def input_value(response, name: str) -> str | None:
    """Return the value of the named input on the page."""
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', text(response))
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None


def selected_option(response, name: str) -> str | None:
    """Return the value of the selected option of the named select."""
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', text(response), re.S)
    chosen = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"', select.group(0)) if select else None
    return chosen.group(1) if chosen else None


class Scheme:
    """A village with households and users of each role, and ways to look at its ledger."""

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

    def rule_id(self, code: str, slug: str = "jiangba") -> int:
        with self.app.app_context():
            return rules.rule_by_code(villages.get_by_slug(slug), code).id

    def household_id(self, name: str, slug: str = "jiangba") -> int:
        with self.app.app_context():
            return households.get_household(villages.get_by_slug(slug), self.codes[name]).id

    def entries(self) -> list[dict]:
        with self.app.app_context():
            rows = db.session.execute(db.select(Entry).order_by(Entry.id)).scalars()
            return [
                {
                    "id": e.id, "household": e.household.head_name, "rule": e.rule_code, "points": e.points,
                    "status": e.status, "note": e.note, "clerk": e.created_by_name,
                    "reviewer": e.reviewed_by_name, "review_note": e.review_note,
                    "photos": len(e.photos), "reverses": e.reverses_id,
                }
                for e in rows
            ]

    def versions(self, ids) -> dict[str, str]:
        """Return the review form's version-<id> fields for entries, as the review page holds them."""
        with self.app.app_context():
            return {f"version-{i}": str(db.session.get(Entry, int(i)).version) for i in ids}

    def photo_files(self) -> list[Path]:
        return sorted((Path(self.app.instance_path) / "evidence").rglob("*.*"))

    def enter(self, name: str, code: str = "P01", points: int | None = None, photos=None, **extra):
        """Post the single-entry form as a clerk would fill it in."""
        data = {
            "household": self.codes.get(name, name), "rule": str(self.rule_id(code)),
            "entry_date": extra.pop("entry_date", TODAY.isoformat()), "note": extra.pop("note", ""),
        }
        if points is not None:
            data["points"] = str(points)
        else:
            with self.app.app_context():
                data["points"] = str(rules.rule_by_code(villages.get_by_slug("jiangba"), code).default_points)
        if photos:
            data["photos"] = [(io.BytesIO(content), filename) for filename, content in photos]
        data.update(extra)
        return self.web.post(
            "/v/jiangba/entries/new", data, content_type="multipart/form-data", follow_redirects=True
        )

    def make(self, name: str, code: str = "P01", clerk: str = "clerk1", approve_by: str | None = None) -> int:
        """Record an entry directly through the ledger (as a given clerk); return its id."""
        with self.app.app_context():
            village = villages.get_by_slug("jiangba")
            actor = db.session.execute(db.select(User).filter_by(username=clerk)).scalar_one()
            household = households.get_household(village, self.codes[name])
            entry = ledger.make_entry(actor, village, household, rules.rule_by_code(village, code), TODAY, evidence=True)
            if approve_by:
                reviewer = db.session.execute(db.select(User).filter_by(username=approve_by)).scalar_one()
                ledger.approve(reviewer, [entry])
            db.session.commit()
            return entry.id


@pytest.fixture
def scheme(app, web, make_village, make_user, make_household):
    """蒋坝村 with 张三 and 王五 in 一组, 李四 in 二组, and a user for each role."""
    make_village()
    for username, role in (("clerk1", "clerk"), ("clerk2", "clerk"), ("reviewer1", "reviewer"),
                           ("reviewer2", "reviewer"), ("viewer1", "viewer"), ("admin1", "admin")):
        make_user(username, role)
    joined = dt.date(2020, 1, 1)
    codes = {
        "张三": make_household(head_name="张三", group="一组", joined_on=joined),
        "李四": make_household(head_name="李四", group="二组", joined_on=joined),
        "王五": make_household(head_name="王五", group="一组", joined_on=joined),
    }
    return Scheme(app, web, codes)


@pytest.fixture
def other_village(app, make_village, make_user, make_household):
    """A second village with its own clerk, who must never see 蒋坝村's evidence."""
    make_village("柳树村", "liushu", groups=("一组",))
    make_user("liushu-clerk", "clerk", slugs=("liushu",))
    return make_household(slug="liushu", head_name="赵六")


def test_clerk_finds_household_by_pinyin_initials_and_enters_points(scheme):
    scheme.login("clerk1")
    found = scheme.web.get("/v/jiangba/households/lookup?q=zs").get_json()
    assert [(h["head_name"], h["group"]) for h in found] == [("张三", "一组")]

    page = scheme.enter(found[0]["code"], "P01", 2, note="参加村民会议")

    assert "已为 张三 记 +2 分（待审核）" in text(page)
    # Back on a fresh form with the same rule chosen, ready for the next household.
    assert input_value(page, "household") == ""
    assert input_value(page, "points") == "2"
    assert selected_option(page, "rule") == str(scheme.rule_id("P01"))
    assert [(e["household"], e["rule"], e["points"], e["status"], e["note"], e["clerk"]) for e in scheme.entries()] == [
        ("张三", "P01", 2, "pending", "参加村民会议", "clerk1")
    ]


def test_lookup_lists_only_active_households_of_the_village(scheme, other_village, app):
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        households.deactivate_household(None, households.get_household(village, scheme.codes["王五"]), TODAY, "moved")
        db.session.commit()
    scheme.login("clerk1")
    assert scheme.web.get("/v/jiangba/households/lookup?q=ww").get_json() == []
    assert scheme.web.get("/v/jiangba/households/lookup?q=zl").get_json() == []
    assert scheme.web.get("/v/jiangba/households/lookup?q=").get_json() == []
    assert [h["head_name"] for h in scheme.web.get("/v/jiangba/households/lookup?q=李").get_json()] == ["李四"]


def test_entry_form_offers_rules_grouped_with_their_default_points(scheme):
    scheme.login("clerk1")
    page = text(scheme.web.get("/v/jiangba/entries/new"))
    assert '<optgroup label="加分">' in page and '<optgroup label="扣分">' in page
    assert 'data-default="-2"' in page and "M03 家庭卫生差、乱堆乱放（-2）" in page
    assert 'accept="image/*"' in page and 'capture="environment"' in page and "multiple" in page
    assert f'value="{TODAY.isoformat()}"' in page

    again = scheme.web.get(f"/v/jiangba/entries/new?rule={scheme.rule_id('P06')}")
    assert input_value(again, "points") == "5"


def test_typing_a_name_works_without_the_search_list(scheme):
    scheme.login("clerk1")
    assert "已为 李四 记 +2 分" in text(scheme.enter("李四"))

    page = text(scheme.enter("nobody"))
    assert "找不到户编号、姓名或拼音首字母为“nobody”的在册农户" in page
    assert len(scheme.entries()) == 1


def test_minus_rule_without_photo_is_refused_and_nothing_written(scheme):
    scheme.login("clerk1")
    page = text(scheme.enter("张三", "M03", -2, note="门口堆满杂物"))
    assert "细则 M03“家庭卫生差、乱堆乱放”需要上传照片作为依据" in page
    assert "门口堆满杂物" in page  # what was typed is kept
    assert scheme.entries() == []


@pytest.mark.parametrize(
    "code, points, entry_date, words",
    [
        ("P01", 9, TODAY, "细则 P01 的分值应在 1 到 4 之间，这里是 9（给"),
        ("P01", -2, TODAY, "细则 P01 是加分项，分值应为正数"),
        ("P01", 2, TODAY + dt.timedelta(days=1), "在今天之后，不能提前记分"),
    ],
)
def test_bad_entries_are_refused_with_a_message_naming_household_and_rule(scheme, code, points, entry_date, words):
    scheme.login("clerk1")
    page = text(scheme.enter("张三", code, points, entry_date=entry_date.isoformat()))
    assert words in page
    assert scheme.entries() == []


def test_inactive_household_is_refused_by_name(scheme, app):
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        households.deactivate_household(None, households.get_household(village, scheme.codes["王五"]), TODAY, "moved")
        db.session.commit()
    scheme.login("clerk1")
    assert f"农户 {scheme.codes['王五']} 王五 已注销，不能再记分" in text(scheme.enter("王五"))
    assert scheme.entries() == []


def test_entry_in_a_published_quarter_is_refused_naming_the_quarter(scheme, app):
    from villagepoints.models import QuarterState
    from villagepoints.quarters import Quarter

    with app.app_context():
        village = villages.get_by_slug("jiangba")
        db.session.add(QuarterState(village_id=village.id, quarter=str(Quarter.of(TODAY)), status="published"))
        db.session.commit()
    scheme.login("clerk1")
    page = text(scheme.enter("张三"))
    assert f"{Quarter.of(TODAY).label}已公示" in page and f"（{Quarter.of(TODAY)}）" not in page
    assert scheme.entries() == []


def test_photo_is_kept_and_shown_to_the_reviewer_but_not_to_another_village(scheme, other_village, app):
    scheme.login("clerk1")
    page = text(scheme.enter("张三", "M03", -2, photos=[("门口.png", PNG)]))
    assert "已为 张三 记 -2 分（待审核）" in page
    [entry] = scheme.entries()
    assert entry["photos"] == 1
    [stored] = scheme.photo_files()
    assert stored.read_bytes() == PNG and "门口" not in stored.name
    with app.app_context():
        photo_id = db.session.execute(db.select(EntryPhoto.id)).scalar_one()

    scheme.login("reviewer1")
    assert f"/v/jiangba/photos/{photo_id}" in text(scheme.web.get("/v/jiangba/review"))
    assert f"/v/jiangba/photos/{photo_id}" in text(scheme.web.get(f"/v/jiangba/entries/{entry['id']}"))
    served = scheme.web.get(f"/v/jiangba/photos/{photo_id}")
    assert (served.status_code, served.mimetype, served.data) == (200, "image/png", PNG)
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    served.close()

    scheme.login("liushu-clerk")
    assert scheme.web.get(f"/v/jiangba/photos/{photo_id}").status_code == 403
    assert scheme.web.get(f"/v/liushu/photos/{photo_id}").status_code == 404


def test_a_file_that_is_not_an_image_is_refused(scheme):
    scheme.login("clerk1")
    page = text(scheme.enter("张三", "M03", -2, photos=[("证明.png", b"%PDF-1.4 not really a picture")]))
    assert "“证明.png”不是图片" in page
    assert scheme.entries() == [] and scheme.photo_files() == []


def test_more_than_four_photos_are_refused(scheme):
    scheme.login("clerk1")
    page = text(scheme.enter("张三", "M03", -2, photos=[(f"{i}.png", PNG) for i in range(5)]))
    assert "每条记录最多 4 张照片" in page
    assert scheme.entries() == []


def test_phone_sized_photos_above_the_import_limit_still_fit(scheme):
    # Two 6 MB photos are over the app-wide 11 MB request limit meant for imports.
    big = PNG + b"\x00" * (6 * 1024 * 1024)
    scheme.login("clerk1")
    page = text(scheme.enter("张三", "M03", -2, photos=[("a.png", big), ("b.png", big)]))
    assert "已为 张三 记 -2 分" in page
    assert scheme.entries()[0]["photos"] == 2


def test_village_without_review_approves_entries_when_made(app, web, make_village, make_user, make_household):
    make_village(require_review=False)
    make_user("clerk1", "clerk")
    code = make_household(head_name="张三")
    scheme = Scheme(app, web, {"张三": code})
    scheme.login("clerk1")
    assert "已为 张三 记 +2 分（已通过）" in text(scheme.enter("张三"))
    assert scheme.entries()[0]["status"] == "approved"


def test_bulk_entry_for_a_group_writes_one_entry_per_ticked_household(scheme, app):
    scheme.login("clerk1")
    with app.app_context():
        group_one = villages.find_group(villages.get_by_slug("jiangba"), "一组").id
    page = text(scheme.web.get(f"/v/jiangba/entries/bulk?group={group_one}"))
    # Every household is listed, so groups can mix; the group only sets the script's first filter.
    assert "张三" in page and "王五" in page and "李四" in page
    assert f'<option value="{group_one}" selected>一组</option>' in page
    assert "全选显示的" in page

    ids = [scheme.household_id("张三"), scheme.household_id("王五")]
    done = scheme.web.post(f"/v/jiangba/entries/bulk?group={group_one}", {
        "households": [str(i) for i in ids], "rule": str(scheme.rule_id("P03")),
        "entry_date": TODAY.isoformat(), "points": "2", "note": "卫生大扫除",
    }, content_type="multipart/form-data", follow_redirects=True)

    assert "已为 2 户记 +2 分（待审核）" in text(done)
    assert sorted((e["household"], e["rule"], e["points"], e["note"]) for e in scheme.entries()) == [
        ("张三", "P03", 2, "卫生大扫除"), ("王五", "P03", 2, "卫生大扫除"),
    ]


def test_bulk_entry_with_one_bad_household_writes_nothing_and_names_it(scheme, app):
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        households.deactivate_household(None, households.get_household(village, scheme.codes["王五"]), TODAY, "moved")
        db.session.commit()
    scheme.login("clerk1")
    page = text(scheme.web.post("/v/jiangba/entries/bulk", {
        "households": [str(scheme.household_id(n)) for n in ("张三", "李四", "王五")],
        "rule": str(scheme.rule_id("P03")), "entry_date": TODAY.isoformat(), "points": "2",
    }, content_type="multipart/form-data"))
    assert f"农户 {scheme.codes['王五']} 王五 已注销" in page
    assert scheme.entries() == []


def test_bulk_entry_refuses_households_of_another_village(scheme, other_village, app):
    with app.app_context():
        foreign = households.get_household(villages.get_by_slug("liushu"), other_village).id
    scheme.login("clerk1")
    page = text(scheme.web.post("/v/jiangba/entries/bulk", {
        "households": [str(scheme.household_id("张三")), str(foreign)],
        "rule": str(scheme.rule_id("P03")), "entry_date": TODAY.isoformat(), "points": "2",
    }, content_type="multipart/form-data"))
    assert "所选农户中有不属于本村的" in page
    assert scheme.entries() == []


def test_bulk_entry_stores_each_photo_once_and_every_entry_shows_both(scheme):
    names = ["张三", "李四", "王五"]
    scheme.login("clerk1")
    page = scheme.web.post("/v/jiangba/entries/bulk", {
        "households": [str(scheme.household_id(n)) for n in names],
        "rule": str(scheme.rule_id("M04")), "entry_date": TODAY.isoformat(), "points": "-3",
        "photos": [(io.BytesIO(PNG), "现场.png"), (io.BytesIO(PNG + b"2"), "门口.png")],
    }, content_type="multipart/form-data", follow_redirects=True)
    assert "已为 3 户记 -3 分" in text(page)
    made = scheme.entries()
    assert [e["photos"] for e in made] == [2, 2, 2]
    # Two files on disk, not one per household.
    assert len(scheme.photo_files()) == 2
    for entry in made:
        shown = photo_links(scheme, entry["id"])
        assert len(shown) == 2
        assert [served(scheme, url) for url in shown] == [PNG, PNG + b"2"]

    # The first household's entry is withdrawn: the others still show both photos.
    scheme.web.post(f"/v/jiangba/entries/{made[0]['id']}/withdraw", follow_redirects=True)
    assert scheme.entries()[0]["status"] == "withdrawn"
    assert len(scheme.photo_files()) == 2
    for entry in made[1:]:
        assert [served(scheme, url) for url in photo_links(scheme, entry["id"])] == [PNG, PNG + b"2"]


def served(scheme: Scheme, url: str) -> bytes | None:
    """Return the bytes a photo address serves, or None when it is not served."""
    with scheme.web.client.get(url) as response:
        return response.data if response.status_code == 200 else None


def photo_links(scheme: Scheme, entry_id: int) -> list[str]:
    """Return the photo addresses an entry's page shows, in order."""
    page = text(scheme.web.get(f"/v/jiangba/entries/{entry_id}"))
    return list(dict.fromkeys(re.findall(r'src="(/v/jiangba/photos/\d+)"', page)))


def test_author_edits_a_pending_entry_and_nobody_else_may(scheme):
    entry_id = scheme.make("张三", "P01")
    scheme.login("clerk2")
    assert scheme.web.get(f"/v/jiangba/entries/{entry_id}/edit").status_code == 403

    scheme.login("clerk1")
    shown = text(scheme.web.get(f"/v/jiangba/entries/{entry_id}"))
    assert "修改" in shown and "撤回" in shown
    page = scheme.web.post(f"/v/jiangba/entries/{entry_id}/edit", {
        "rule": str(scheme.rule_id("P01")), "entry_date": TODAY.isoformat(), "points": "3", "note": "补记",
    }, content_type="multipart/form-data", follow_redirects=True)
    assert f"已保存积分记录 #{entry_id} 的修改" in text(page)
    assert (scheme.entries()[0]["points"], scheme.entries()[0]["note"]) == (3, "补记")


def test_author_withdraws_a_pending_entry(scheme, app):
    entry_id = scheme.make("张三", "P01")
    scheme.login("clerk2")
    scheme.web.post(f"/v/jiangba/entries/{entry_id}/withdraw", follow_redirects=True)
    assert scheme.entries()[0]["status"] == "pending"

    scheme.login("clerk1")
    page = scheme.web.post(f"/v/jiangba/entries/{entry_id}/withdraw", follow_redirects=True)
    assert f"已撤回积分记录 #{entry_id}" in text(page)
    assert scheme.entries()[0]["status"] == "withdrawn"
    with app.app_context():
        assert db.session.execute(db.select(AuditEntry).filter_by(action="entry.withdraw")).scalar_one().actor == "clerk1"


def test_approved_entry_cannot_be_edited_only_reversed(scheme):
    entry_id = scheme.make("张三", "P06", approve_by="reviewer1")
    scheme.login("clerk1")
    shown = text(scheme.web.get(f"/v/jiangba/entries/{entry_id}/edit", follow_redirects=True))
    assert "已通过，不能再修改" in shown
    assert "冲正这条记录" not in shown  # clerks do not reverse


def test_reviewer_reverses_an_approved_entry_from_its_page_once(scheme):
    entry_id = scheme.make("张三", "P06", approve_by="reviewer1")
    scheme.login("reviewer2")
    assert "冲正这条记录" in text(scheme.web.get(f"/v/jiangba/entries/{entry_id}"))

    refused = text(scheme.web.post(f"/v/jiangba/entries/{entry_id}/reverse", {"reason": ""}))
    assert "冲正时请写明理由" in refused and len(scheme.entries()) == 1

    page = text(scheme.web.post(f"/v/jiangba/entries/{entry_id}/reverse", {"reason": "记错了农户"}, follow_redirects=True))
    original, reversal = scheme.entries()
    assert f"已冲正积分记录 #{entry_id}，冲正记录 #{reversal['id']} -5 分（待审核）" in page
    assert (reversal["points"], reversal["reverses"], reversal["note"]) == (-5, entry_id, "冲正：记错了农户")
    assert original["status"] == "approved"
    assert "冲正这条记录" not in page and f"冲正记录 #{reversal['id']}" in page

    twice = text(scheme.web.post(f"/v/jiangba/entries/{entry_id}/reverse", {"reason": "再来一次"}))
    assert f"已有冲正记录 #{reversal['id']}，不能重复冲正" in twice
    assert len(scheme.entries()) == 2


def test_a_reversal_cannot_itself_be_reversed(app, web, make_village, make_user, make_household):
    make_village(require_review=False)
    make_user("clerk1", "clerk")
    make_user("reviewer1", "reviewer")
    scheme = Scheme(app, web, {"张三": make_household(head_name="张三")})
    entry_id = scheme.make("张三", "P06")
    scheme.login("reviewer1")
    scheme.web.post(f"/v/jiangba/entries/{entry_id}/reverse", {"reason": "重复录入"})
    reversal = scheme.entries()[1]
    assert reversal["status"] == "approved"
    assert "冲正这条记录" not in text(scheme.web.get(f"/v/jiangba/entries/{reversal['id']}"))
    page = text(scheme.web.post(f"/v/jiangba/entries/{reversal['id']}/reverse", {"reason": "撤销冲正"}))
    assert "本身是冲正记录，不能再冲正" in page
    assert len(scheme.entries()) == 2


def test_entries_list_filters_by_status_and_household(scheme):
    scheme.make("张三", "P01", approve_by="reviewer1")
    scheme.make("李四", "P02")
    scheme.login("viewer1")
    everything = text(scheme.web.get("/v/jiangba/entries"))
    assert "符合条件 <strong>2</strong> 条" in everything
    pending = text(scheme.web.get("/v/jiangba/entries?status=pending"))
    assert "李四" in pending and "张三" not in pending.split("<tbody>")[1]
    one = text(scheme.web.get(f"/v/jiangba/entries?household={scheme.codes['张三']}"))
    assert "符合条件 <strong>1</strong> 条" in one
    by_initials = text(scheme.web.get("/v/jiangba/entries?q=ls"))
    assert "符合条件 <strong>1</strong> 条" in by_initials and "李四" in by_initials


def test_entry_of_another_village_is_not_found(scheme, other_village, app):
    with app.app_context():
        village = villages.get_by_slug("liushu")
        entry = ledger.make_entry(
            None, village, households.get_household(village, other_village), rules.rule_by_code(village, "P01"), TODAY
        )
        db.session.commit()
        foreign = entry.id
    scheme.login("admin1")
    assert scheme.web.get(f"/v/jiangba/entries/{foreign}").status_code == 404


def test_viewer_gets_403_on_every_write_route(scheme):
    entry_id = scheme.make("张三", "P01")
    approved = scheme.make("李四", "P01", approve_by="reviewer1")
    code = scheme.codes["张三"]
    scheme.login("viewer1")
    token = scheme.web.token
    gets = ["/v/jiangba/entries/new", "/v/jiangba/entries/bulk", f"/v/jiangba/entries/{entry_id}/edit",
            "/v/jiangba/review", f"/v/jiangba/households/{code}/honours", f"/v/jiangba/households/{code}/aid-suspensions"]
    posts = gets[:3] + [
        f"/v/jiangba/entries/{entry_id}/withdraw", f"/v/jiangba/entries/{approved}/reverse",
        "/v/jiangba/review/approve", "/v/jiangba/review/reject",
        f"/v/jiangba/households/{code}/honours", f"/v/jiangba/households/{code}/aid-suspensions",
    ]
    for url in gets:
        assert scheme.web.get(url).status_code == 403, url
    for url in posts:
        assert scheme.web.post(url, {"csrf_token": token, "ids": str(entry_id), "reason": "x"}).status_code == 403, url
    assert [e["status"] for e in scheme.entries()] == ["pending", "approved"]
    # Reading is fine.
    assert scheme.web.get("/v/jiangba/entries").status_code == 200
    assert scheme.web.get(f"/v/jiangba/entries/{entry_id}").status_code == 200


def test_a_resubmitted_entry_form_records_once(scheme):
    scheme.login("clerk1")
    form = scheme.web.get("/v/jiangba/entries/new")
    token = input_value(form, "token")
    assert token
    scheme.enter("张三", "P01", 2, token=token)
    again = scheme.enter("张三", "P01", 2, token=token)
    assert "这次记分已经保存过" in text(again)
    assert len(scheme.entries()) == 1
    # The fresh form after saving carries a new token, so the next entry goes through.
    assert input_value(again, "token") not in ("", token)
