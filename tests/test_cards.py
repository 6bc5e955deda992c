"""Household cards (户码): tokens kept hashed, the household's own page, printing, reissuing."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest
import zxingcpp
from PIL import Image

from concurrency import together
from villagepoints import cards, households, ledger, publication, rules, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields
from villagepoints.models import AuditEntry, Household, HouseholdCard, LoginFailure
from villagepoints.personal_data import id_check_char, mask_id_number, mask_phone
from villagepoints.quarters import Quarter

TODAY = dt.date.today()
PAST = Quarter.of(TODAY).previous()
BASE = "https://jifen.example.cn"


def id_number(first17: str) -> str:
    return first17 + id_check_char(first17)


ZHANG_ID = id_number("52273119650312071")
ZHANG_PHONE = "13912345671"


def text(response) -> str:
    return response.get_data(as_text=True)


def visible(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(response)))


def household(code: str) -> Household:
    return db.session.execute(db.select(Household).filter_by(code=code)).scalar_one()


def issue(app, code: str) -> str:
    """Issue a card to a household from the domain; return its token."""
    with app.app_context():
        token = cards.reissue(None, household(code)).token
        db.session.commit()
        return token


@pytest.fixture
def zhang(app, make_village, make_household) -> str:
    make_village(require_review=False)
    return make_household(head_name="张三", group="一组", id_number=ZHANG_ID, phone=ZHANG_PHONE,
                          joined_on=dt.date(2020, 1, 1))


@pytest.fixture
def group_of_60(app, make_village) -> list[str]:
    """A village whose 二组 has 60 households (and 一组 two more, never printed with 二组)."""
    make_village(require_review=False)
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        two = villages.find_group(village, "二组")
        one = villages.find_group(village, "一组")
        codes = []
        for i in range(60):
            h = households.create_household(None, village, HouseholdFields(
                head_name=f"王{'一二三四五六七八九十'[i % 10]}{i}", group=two,
                id_number=id_number(f"52273119700101{i:03d}"),
                phone=f"1391234{i:04d}",
            ))
            codes.append(h.code)
        for name in ("李甲", "李乙"):
            households.create_household(None, village, HouseholdFields(head_name=name, group=one))
        db.session.commit()
    return codes


# --- tokens -------------------------------------------------------------------------


def test_a_card_token_is_kept_only_as_its_sha256_hash(app, zhang):
    token = issue(app, zhang)
    with app.app_context():
        card = db.session.execute(db.select(HouseholdCard)).scalar_one()
        assert card.token_hash == hashlib.sha256(token.encode()).hexdigest()
        stored = " ".join(str(v) for v in db.session.execute(db.select(HouseholdCard.__table__)).one())
        assert token not in stored
        audit_text = " ".join(f"{a.summary} {a.before} {a.after}" for a in db.session.execute(db.select(AuditEntry)).scalars())
        assert token not in audit_text
    assert len(token) >= 40


def test_tokens_are_random_not_made_from_the_code(app, zhang):
    first = issue(app, zhang)
    second = issue(app, zhang)
    assert first != second
    assert zhang not in first and zhang not in second


def test_reissue_kills_the_old_card_at_once_and_logs_it(app, zhang):
    old = issue(app, zhang)
    new = issue(app, zhang)
    with app.app_context():
        assert cards.household_for_token(old) is None
        assert cards.household_for_token(new).code == zhang
        actions = [a.action for a in db.session.execute(db.select(AuditEntry).order_by(AuditEntry.id)).scalars()]
        assert actions[-2:] == ["card.issue", "card.reissue"]
        assert db.session.execute(
            db.select(db.func.count(HouseholdCard.id)).where(HouseholdCard.revoked_at.is_(None))
        ).scalar_one() == 1


def test_a_deactivated_household_gets_no_card(app, zhang):
    with app.app_context():
        households.deactivate_household(None, household(zhang), TODAY, "moved", "")
        db.session.commit()
        with pytest.raises(cards.CardError, match="已注销"):
            cards.reissue(None, household(zhang))


# --- the household's own page --------------------------------------------------------


def test_own_page_shows_scores_lists_balance_and_history_but_no_personal_data(app, zhang, web):
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        h = household(zhang)
        ledger.make_entry(None, village, h, rules.rule_by_code(village, "P06"), PAST.first_day, 8, evidence=True)
        ledger.make_entry(None, village, h, rules.rule_by_code(village, "P01"), TODAY, None, evidence=True)
        publication.publish(None, village, PAST, contact="村委会", today=TODAY)
        db.session.commit()
        now_points = ledger.scores_for(h).quarter_score
    token = issue(app, zhang)
    response = web.get(f"/h/{token}")
    assert response.status_code == 200
    page = visible(response)
    assert "张三户" in page and "一组" in page and zhang in page
    assert f"{Quarter.of(TODAY).label}积分 {now_points}" in page
    assert PAST.label in page and "第1名" in page and "光荣榜" in page
    assert "可用积分" in page
    for secret in (ZHANG_ID, ZHANG_ID[-4:], ZHANG_PHONE, mask_id_number(ZHANG_ID), mask_phone(ZHANG_PHONE)):
        assert secret not in text(response)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert response.headers["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex">' in text(response)


def test_unknown_and_revoked_cards_get_the_same_plain_not_found(app, zhang, web):
    old = issue(app, zhang)
    issue(app, zhang)
    revoked = web.get(f"/h/{old}")
    unknown = web.get("/h/" + "x" * 43)
    assert revoked.status_code == unknown.status_code == 404
    assert text(revoked) == text(unknown)
    assert "找不到这个户码" in text(revoked)
    assert "张三" not in text(revoked)
    assert revoked.headers["Referrer-Policy"] == "no-referrer"


def test_guessing_tokens_is_throttled_per_address_even_for_a_real_card(app, zhang, web):
    token = issue(app, zhang)
    for i in range(20):
        assert web.get(f"/h/guess{i:040d}").status_code == 404
    throttled = web.get(f"/h/{token}")
    assert throttled.status_code == 429
    assert "次数过多" in text(throttled) and "张三" not in text(throttled)
    other_address = web.client.get(f"/h/{token}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_address.status_code == 200
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(LoginFailure.id))).scalar_one() == 20


# --- printing -----------------------------------------------------------------------


def decode_pdf(pdf: bytes, tmp_path: Path) -> tuple[int, list[list[str]]]:
    """Return the page count and the QR texts found on each page, rendered at 150 dpi as a scan would be."""
    path = tmp_path / "cards.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    subprocess.run(["pdftoppm", "-r", "150", "-gray", "-png", str(path), str(tmp_path / "page")], check=True)
    found = []
    for png in sorted(tmp_path.glob("page-*.png")):
        with Image.open(png) as image:
            found.append([b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)])
    return pages, found


def clerk_web(make_user, web):
    make_user("clerk1", "clerk")
    web.login("clerk1")
    return web


def test_printing_a_60_household_group_gives_8_pages_whose_codes_open_each_household(
    app, group_of_60, make_user, web, tmp_path
):
    app.config["PUBLIC_URL"] = BASE
    clerk_web(make_user, web)
    with app.app_context():
        two = villages.find_group(villages.get_by_slug("jiangba"), "二组")
        group_id = two.id
    page = web.get(f"/v/jiangba/cards?group={group_id}")
    assert "将为 60 户" in visible(page)
    response = web.post("/v/jiangba/cards", {"group": group_id})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    pdf = response.data
    pages, found = decode_pdf(pdf, tmp_path)
    assert pages == 8
    assert [len(p) for p in found] == [8] * 7 + [4]
    urls = [u for p in found for u in p]
    assert len(set(urls)) == 60 and all(u.startswith(f"{BASE}/h/") for u in urls)
    # The printed words are Chinese, not boxes: pdftotext reads them back.
    words = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "蒋坝村 户码" in words and "二组" in words and "李甲" not in words
    anonymous = app.test_client()
    with app.app_context():
        people = {h.code: h for h in db.session.execute(db.select(Household)).scalars()}
        seen = set()
        for url in urls:
            shown = anonymous.get(urlparse(url).path)
            assert shown.status_code == 200
            body = re.sub(r"<[^>]+>", " ", shown.get_data(as_text=True))
            code = re.search(r"户编号\s+(\S+)", body).group(1)
            h = people[code]
            assert f"{h.head_name}户" in body
            assert h.id_number not in body and h.phone not in body and h.phone[-4:] not in body
            seen.add(code)
        assert seen == set(group_of_60)


def test_printing_again_asks_to_confirm_and_then_kills_the_earlier_cards(app, group_of_60, make_user, web, tmp_path):
    clerk_web(make_user, web)
    with app.app_context():
        group_id = villages.find_group(villages.get_by_slug("jiangba"), "一组").id
    first = web.post("/v/jiangba/cards", {"group": group_id})
    assert first.mimetype == "application/pdf"
    _pages, found = decode_pdf(first.data, tmp_path)
    old_urls = found[0]
    assert len(old_urls) == 2
    page = web.get(f"/v/jiangba/cards?group={group_id}")
    assert "其中 2 户已经发过户码" in visible(page) and "立即失效" in visible(page)
    refused = web.post("/v/jiangba/cards", {"group": group_id})
    assert refused.mimetype == "text/html" and "请勾选确认" in visible(refused)
    assert web.get(urlparse(old_urls[0]).path).status_code == 200
    again = web.post("/v/jiangba/cards", {"group": group_id, "confirm": "y"})
    assert again.mimetype == "application/pdf"
    for url in old_urls:
        assert web.get(urlparse(url).path).status_code == 404
    with app.app_context():
        logged = db.session.execute(db.select(AuditEntry).filter_by(action="card.print").order_by(AuditEntry.id.desc())).scalars().first()
        assert "其中 2 户原有户码作废" in logged.summary


def test_a_reissued_cards_old_code_is_dead(app, zhang, make_user, web, tmp_path):
    app.config["PUBLIC_URL"] = BASE
    clerk_web(make_user, web)
    first = web.post("/v/jiangba/households/" + zhang + "/card", {})
    old_url = re.search(r"https://jifen\.example\.cn/h/[\w-]+", text(first)).group(0)
    assert "<svg" in text(first) and first.headers["Cache-Control"] == "no-store"
    asked = web.get(f"/v/jiangba/households/{zhang}/card")
    assert "立即失效" in visible(asked)
    refused = web.post(f"/v/jiangba/households/{zhang}/card", {})
    assert "请勾选确认" in visible(refused)
    assert web.get(urlparse(old_url).path).status_code == 200
    second = web.post(f"/v/jiangba/households/{zhang}/card", {"confirm": "y"})
    assert "原户码已作废" in visible(second)
    new_url = re.search(r"https://jifen\.example\.cn/h/[\w-]+", text(second)).group(0)
    assert web.get(urlparse(old_url).path).status_code == 404
    assert web.get(urlparse(new_url).path).status_code == 200
    shown = web.get(f"/v/jiangba/households/{zhang}")
    assert "补发户码" in visible(shown) and "已发放" in visible(shown)


def test_viewers_cannot_print_or_reissue_cards(app, zhang, make_user, web):
    make_user("viewer1", "viewer")
    web.login("viewer1")
    assert web.get("/v/jiangba/cards").status_code == 403
    assert web.get(f"/v/jiangba/households/{zhang}/card").status_code == 403


def test_cli_cards_writes_the_pdf_and_warns_that_older_cards_stop_working(app, group_of_60, runner, tmp_path):
    out = tmp_path / "cards.pdf"
    result = runner.invoke(args=["cards", "--village", "jiangba", "--group", "二组", "--out", str(out),
                                 "--base-url", BASE])
    assert result.exit_code == 0, result.output
    assert "已为 60 户生成新户码" in result.output and "8 页" in result.output
    assert "作废" not in result.output
    again = runner.invoke(args=["cards", "--village", "jiangba", "--out", str(out), "--base-url", BASE])
    assert again.exit_code == 0, again.output
    assert "已为 62 户生成新户码" in again.output and "其中 60 户原有的户码已作废" in again.output
    pages, found = decode_pdf(out.read_bytes(), tmp_path)
    assert pages == 8 and sum(len(p) for p in found) == 62


def test_cli_cards_needs_the_address_the_codes_open(app, zhang, runner, tmp_path):
    result = runner.invoke(args=["cards", "--village", "jiangba", "--out", str(tmp_path / "c.pdf")])
    assert result.exit_code != 0 and "PUBLIC_URL" in result.output
    missing = runner.invoke(args=["cards", "--village", "jiangba", "--group", "九组", "--out", str(tmp_path / "c.pdf"),
                                  "--base-url", BASE])
    assert "没有名为“九组”的小组" in missing.output


def test_cli_reissue_card_prints_the_new_address_and_kills_the_old(app, zhang, runner, web):
    old = issue(app, zhang)
    result = runner.invoke(args=["reissue-card", "--village", "jiangba", "--household", zhang, "--base-url", BASE])
    assert result.exit_code == 0, result.output
    assert "已补发新户码，原户码已作废" in result.output
    new_path = urlparse(re.search(r"https://\S+", result.output).group(0)).path
    assert web.get(f"/h/{old}").status_code == 404
    assert web.get(new_path).status_code == 200
    unknown = runner.invoke(args=["reissue-card", "--village", "jiangba", "--household", "X999", "--base-url", BASE])
    assert unknown.exit_code != 0 and "X999" in unknown.output


def test_a_scanned_card_resolves_to_its_household_for_staff_only(app, zhang, make_user, web):
    token = issue(app, zhang)
    assert web.get(f"/v/jiangba/cards/resolve?scanned={BASE}/h/{token}").status_code in (302, 401)
    make_user("keeper1", "storekeeper")
    web.login("keeper1")
    found = web.get(f"/v/jiangba/cards/resolve?scanned={BASE}/h/{token}")
    assert found.json == {"found": True, "code": zhang, "head_name": "张三", "group": "一组"}
    assert web.get("/v/jiangba/cards/resolve?scanned=nonsense").status_code == 404


def test_a_handheld_scanner_typing_the_cards_address_finds_the_household_at_the_counter(app, zhang, make_user, web):
    token = issue(app, zhang)
    make_user("keeper1", "storekeeper")
    web.login("keeper1")
    found = web.get("/v/jiangba/store/redeem", query_string={"household": f"{BASE}/h/{token}"})
    assert "张三" in visible(found) and zhang in visible(found)
    issue(app, zhang)
    dead = web.get("/v/jiangba/store/redeem", query_string={"household": f"{BASE}/h/{token}"})
    assert "扫到的户码无效" in visible(dead)


def test_the_entry_form_takes_a_scanned_card_for_the_household(app, zhang, make_user, web):
    token = issue(app, zhang)
    clerk_web(make_user, web)
    with app.app_context():
        rule_id = rules.rule_by_code(villages.get_by_slug("jiangba"), "P01").id
    web.get("/v/jiangba/entries/new")
    saved = web.post("/v/jiangba/entries/new", {
        "household": f"{BASE}/h/{token}", "rule": rule_id, "entry_date": TODAY.isoformat(), "points": "2",
    }, follow_redirects=True)
    assert "已为 张三 记 +2 分" in visible(saved)


def test_two_clerks_reissuing_one_card_at_once_leave_exactly_one_live_card(app, zhang):
    """Each reissue locks the household's row first; the second waits and revokes the first's card."""
    with app.app_context():
        household_id = household(zhang).id

    def run(_job, gate):
        with app.app_context():
            h = db.session.get(Household, household_id)
            db.session.rollback()
            gate()
            token = cards.reissue(None, h).token
            db.session.commit()
            return token

    tokens = together(range(2), run, what="a reissue")
    assert len(tokens) == 2
    with app.app_context():
        live = [t for t in tokens if cards.household_for_token(t) is not None]
        assert len(live) == 1
        assert db.session.execute(
            db.select(db.func.count(HouseholdCard.id)).where(HouseholdCard.revoked_at.is_(None))
        ).scalar_one() == 1


def test_the_database_refuses_a_second_live_card_for_one_household(app, zhang, ctx):
    from sqlalchemy.exc import IntegrityError

    h = household(zhang)
    db.session.add(HouseholdCard(village_id=h.village_id, household_id=h.id, token_hash="a" * 64))
    db.session.flush()
    db.session.add(HouseholdCard(village_id=h.village_id, household_id=h.id, token_hash="b" * 64))
    with pytest.raises(IntegrityError):
        db.session.flush()
