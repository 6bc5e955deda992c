"""Picking a household by a photo of its card, for phones whose browser cannot scan."""
from __future__ import annotations

import io
import re

import pytest
import segno
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from villagepoints import card_scan, cards
from villagepoints.extensions import db
from villagepoints.models import EntryPhoto, Household, LoginFailure

BASE = "https://jifen.example.cn"
SCAN = "/v/jiangba/cards/scan-photo"
JSON = {"Accept": "application/json"}


def card_png(text: str, *, scale: int = 8) -> bytes:
    """A photo of a card, as near as a test gets: the card's QR rendered to PNG."""
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def blank_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 180, 150)).save(out, format="JPEG")
    return out.getvalue()


def issue(app, code: str, slug: str = "jiangba") -> str:
    with app.app_context():
        household = db.session.execute(
            db.select(Household).join(Household.village).where(Household.code == code)
            .filter_by(slug=slug)
        ).scalar_one()
        token = cards.reissue(None, household).token
        db.session.commit()
        return token


def visible(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def zhang(app, make_village, make_household) -> str:
    make_village(require_review=False)
    return make_household(head_name="张三", group="一组")


def send(web, photo: bytes, *, back: str = "entry", json: bool = True, **kwargs):
    web.get("/v/jiangba/entries/new" if back == "entry" else "/v/jiangba/store/redeem")
    return web.post(SCAN, {"back": back, "photo": (io.BytesIO(photo), "photo.png")},
                    headers=JSON if json else {}, content_type="multipart/form-data", **kwargs)


def test_a_photo_of_a_card_answers_its_household_as_the_card_lookup_does(app, zhang, make_user, web):
    token = issue(app, zhang)
    make_user("clerk1", "clerk")
    web.login("clerk1")
    answer = send(web, card_png(f"{BASE}/h/{token}"))
    assert answer.status_code == 200
    assert answer.json == {"found": True, "code": zhang, "head_name": "张三", "group": "一组"}


def test_reading_a_photo_keeps_nothing_of_it_only_counts_it(app, zhang, make_user, web):
    token = issue(app, zhang)
    make_user("keeper1", "storekeeper")
    web.login("keeper1")
    before = photo_rows(app)
    assert send(web, card_png(f"{BASE}/h/{token}"), back="store").json["found"] is True
    assert photo_rows(app) == before
    with app.app_context():
        counted = db.session.execute(db.select(LoginFailure).filter_by(kind="card_scan")).scalars().all()
    assert len(counted) == 1


def photo_rows(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(EntryPhoto.id))).scalar_one()


def test_a_photo_without_a_card_says_so(app, zhang, make_user, web):
    make_user("clerk1", "clerk")
    web.login("clerk1")
    answer = send(web, blank_jpeg())
    assert answer.status_code == 422
    assert answer.json["found"] is False and "没有识别到二维码" in answer.json["message"]


def test_a_qr_that_is_not_a_card_and_a_file_that_is_not_a_photo_are_told_apart(app, zhang, make_user, web):
    make_user("clerk1", "clerk")
    web.login("clerk1")
    assert "不是户码卡" in send(web, card_png("https://weixin.qq.com/r/abc")).json["message"]
    assert "无法读取这张照片" in send(web, b"%PDF-1.4 not a photo").json["message"]


def test_another_villages_card_is_refused_naming_both_villages(app, zhang, make_village, make_household, make_user,
                                                             web):
    make_village("马家村", "majia")
    other = make_household("majia", head_name="马六", group="一组")
    token = issue(app, other, slug="majia")
    make_user("clerk1", "clerk")  # of 蒋坝村 only
    web.login("clerk1")
    answer = send(web, card_png(f"{BASE}/h/{token}"))
    assert answer.status_code == 422
    assert answer.json == {"found": False, "message": "这是马家村的户码卡，不是蒋坝村的，不能在这里使用"}
    assert "马六" not in answer.get_data(as_text=True)


def test_a_reissued_cards_old_photo_is_refused_as_revoked(app, zhang, make_user, web):
    old = issue(app, zhang)
    issue(app, zhang)
    make_user("clerk1", "clerk")
    web.login("clerk1")
    answer = send(web, card_png(f"{BASE}/h/{old}"))
    assert answer.status_code == 422 and "已作废" in answer.json["message"]


def test_viewers_reviewers_and_anonymous_cannot_send_photos(app, zhang, make_user, web):
    token = issue(app, zhang)
    photo = card_png(f"{BASE}/h/{token}")
    web.get("/login")
    anonymous = web.post(SCAN, {"back": "entry", "photo": (io.BytesIO(photo), "p.png")},
                         content_type="multipart/form-data")
    assert anonymous.status_code in (302, 401) and "张三" not in anonymous.get_data(as_text=True)
    for role in ("viewer", "reviewer"):
        make_user(f"{role}1", role)
        web.login(f"{role}1")
        refused = send(web, photo)
        assert refused.status_code == 403 and "张三" not in refused.get_data(as_text=True)


def test_a_photo_without_the_csrf_token_is_refused(app, zhang, make_user, web):
    token = issue(app, zhang)
    make_user("clerk1", "clerk")
    web.login("clerk1")
    answer = web.post(SCAN, {"csrf_token": "", "photo": (io.BytesIO(card_png(f"{BASE}/h/{token}")), "p.png")},
                      headers=JSON, content_type="multipart/form-data")
    assert answer.status_code == 400 and "张三" not in answer.get_data(as_text=True)


def test_a_photo_over_the_size_limit_is_refused_naming_the_limit(app, zhang, make_user, web):
    make_user("clerk1", "clerk")
    web.login("clerk1")
    web.get("/v/jiangba/entries/new")
    too_big = b"\xff\xd8" + b"0" * (card_scan.MAX_SCAN_BYTES + 100 * 1024)
    # Encoded in memory: the test client would spool so large a body to a file it never closes.
    body, _length, boundary = stream_encode_multipart({
        "csrf_token": web.token, "back": "entry", "photo": FileStorage(io.BytesIO(too_big), filename="big.jpg", content_type="image/jpeg"),
    }, use_tempfile=False)
    answer = web.client.post(SCAN, data=body.getvalue(), headers=JSON,
                             content_type=f"multipart/form-data; boundary={boundary}")
    assert answer.status_code == 413 and "户码照片超过 8 MB" in answer.json["message"]


def test_photos_are_limited_per_staff_member(app, zhang, make_user, web):
    app.config["SCAN_PHOTO_MAX_PER_WINDOW"] = 2
    token = issue(app, zhang)
    photo = card_png(f"{BASE}/h/{token}")
    make_user("clerk1", "clerk")
    web.login("clerk1")
    assert send(web, photo).status_code == 200
    assert send(web, blank_jpeg()).status_code == 422
    throttled = send(web, photo)
    assert throttled.status_code == 429 and "拍照识别户码过于频繁" in throttled.json["message"]


def test_without_the_script_the_photo_form_brings_back_the_entry_form_with_the_household_picked(
    app, zhang, make_user, web
):
    token = issue(app, zhang)
    make_user("clerk1", "clerk")
    web.login("clerk1")
    page = send(web, card_png(f"{BASE}/h/{token}"), json=False)
    assert page.status_code == 302 and page.headers["Location"].endswith(f"/v/jiangba/entries/new?household={zhang}")
    picked = web.get(page.headers["Location"])
    assert f'value="{zhang}"' in picked.get_data(as_text=True) and "张三（" in visible(picked)


def test_without_the_script_the_store_counter_opens_the_household_and_refusals_come_back_as_messages(
    app, zhang, make_user, web
):
    token = issue(app, zhang)
    make_user("keeper1", "storekeeper")
    web.login("keeper1")
    counter = send(web, card_png(f"{BASE}/h/{token}"), back="store", json=False, follow_redirects=True)
    assert "张三" in visible(counter) and "可用积分" in visible(counter)
    refused = send(web, blank_jpeg(), back="store", json=False, follow_redirects=True)
    assert "没有识别到二维码" in visible(refused) and "可用积分" not in visible(refused)


def test_both_pages_carry_the_photo_input_and_its_own_form(app, zhang, make_user, web):
    make_user("keeper1", "admin")
    web.login("keeper1")
    for path, form_id in (("/v/jiangba/entries/new", "scan-photo-entry"), ("/v/jiangba/store/redeem", "scan-photo-store")):
        html = web.get(path).get_data(as_text=True)
        assert f'capture="environment" form="{form_id}"' in html
        assert f'<form id="{form_id}"' in html and 'action="/v/jiangba/cards/scan-photo"' in html


def test_a_larger_phone_photo_with_the_card_in_it_is_read(app, zhang, ctx):
    """A 12-megapixel JPEG with the card's QR in one corner: scaled down before reading, still found."""
    token = issue(app, zhang)
    qr = Image.open(io.BytesIO(card_png(f"{BASE}/h/{token}", scale=12)))
    photo = Image.new("RGB", (4000, 3000), (220, 210, 190))
    photo.paste(qr.convert("RGB"), (300, 400))
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=85)
    village = db.session.get(Household, db.session.execute(
        db.select(Household.id).filter_by(code=zhang)).scalar_one()).village
    assert card_scan.household_from_photo(village, out.getvalue()).code == zhang
