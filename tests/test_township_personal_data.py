"""A township admin sees personal data in full in its own township's villages, as a global
admin does everywhere; a township viewer and every village role only ever see the masks."""
import io

import openpyxl
import pytest

from villagepoints import villages
from villagepoints.extensions import db
from villagepoints.models import AuditEntry, Household, User
from villagepoints.personal_data import id_check_char, mask_id_number, mask_phone, sees_in_full
import township_world as world

ID_NUMBER = "32082919800101123" + id_check_char("32082919800101123")
PHONE = "13912345678"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def built(app):
    """Both townships; the first household of 东村 (东乡镇) and of 北村 (北乡镇) have an ID and a phone."""
    with app.app_context():
        world.build()
        world.add_user("tv", "township_viewer", "dongxiang")
        world.add_user("ta", "township_admin", "dongxiang")
        world.add_user("ta-bei", "township_admin", "beixiang")
        world.add_user("clerk-dong", "clerk", slugs=("dongcun",))
        world.add_user("boss", "admin")
        for slug in ("dongcun", "beicun"):
            first_household(slug).id_number, first_household(slug).phone = ID_NUMBER, PHONE
        db.session.commit()
    return app


def first_household(slug: str) -> Household:
    village = villages.get_by_slug(slug)
    return db.session.execute(
        db.select(Household).where(Household.village_id == village.id).order_by(Household.code)
    ).scalars().first()


def code_of(app, slug: str) -> str:
    with app.app_context():
        return first_household(slug).code


def household_page(web, app, slug: str):
    return web.get(f"/v/{slug}/households/{code_of(app, slug)}")


def register_workbook(web, slug: str, full: bool = True):
    response = web.get(f"/v/{slug}/exports/register" + ("?full=y" if full else ""))
    data = response.get_data()
    response.close()
    book = openpyxl.load_workbook(io.BytesIO(data)) if response.mimetype == XLSX else None
    return response, book


def audit_actions(app, action: str) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(db.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)).scalars()
        return [(r.actor, r.village.slug if r.village else "") for r in rows]


def test_the_rule_names_who_sees_personal_data_in_full_village_by_village(built):
    with built.app_context():
        users = {u.username: u for u in db.session.execute(db.select(User)).scalars()}
        dongcun, beicun = villages.get_by_slug("dongcun"), villages.get_by_slug("beicun")
        assert sees_in_full(users["boss"], dongcun) and sees_in_full(users["boss"], beicun)
        assert sees_in_full(users["ta"], dongcun) and not sees_in_full(users["ta"], beicun)
        assert sees_in_full(users["ta-bei"], beicun) and not sees_in_full(users["ta-bei"], dongcun)
        assert not sees_in_full(users["tv"], dongcun)
        assert not sees_in_full(users["clerk-dong"], dongcun)
        assert not sees_in_full(None, dongcun)


def test_a_township_admin_sees_full_id_and_phone_in_its_own_townships_village(built, web):
    web.login("ta")
    page = household_page(web, built, "dongcun").get_data(as_text=True)
    assert ID_NUMBER in page and PHONE in page
    register = web.get("/v/dongcun/households").get_data(as_text=True)
    assert ID_NUMBER in register and PHONE in register
    # The edit form is filled with the stored numbers, as an admin's is.
    form = web.get(f"/v/dongcun/households/{code_of(built, 'dongcun')}/edit").get_data(as_text=True)
    assert f'value="{ID_NUMBER}"' in form and "留空表示不修改" not in form


def test_a_township_admin_is_refused_another_townships_household_and_sees_nothing_of_it(built, web):
    web.login("ta")
    response = household_page(web, built, "beicun")
    assert response.status_code == 403
    assert ID_NUMBER not in response.get_data(as_text=True)
    assert mask_id_number(ID_NUMBER) not in response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["tv", "clerk-dong"])
def test_a_township_viewer_and_village_roles_see_only_the_masks(built, web, username):
    web.login(username)
    page = household_page(web, built, "dongcun").get_data(as_text=True)
    assert ID_NUMBER not in page and PHONE not in page
    assert mask_id_number(ID_NUMBER) in page and mask_phone(PHONE) in page


def test_full_register_export_is_allowed_to_a_township_admin_only_inside_its_township(built, web):
    web.login("ta")
    assert 'name="full"' in web.get("/v/dongcun/exports").get_data(as_text=True)
    response, book = register_workbook(web, "dongcun")
    assert response.status_code == 200
    assert ID_NUMBER in str(list(book.active.values))
    assert audit_actions(built, "export.register_full") == [("ta", "dongcun")]
    response, _ = register_workbook(web, "beicun")
    assert response.status_code == 403
    assert audit_actions(built, "export.register_full") == [("ta", "dongcun")]


def test_a_township_viewer_may_not_export_the_register_in_full(built, web):
    web.login("tv")
    assert 'name="full"' not in web.get("/v/dongcun/exports").get_data(as_text=True)
    response, _ = register_workbook(web, "dongcun")
    assert response.status_code == 403
    response, book = register_workbook(web, "dongcun", full=False)
    assert response.status_code == 200
    values = str(list(book.active.values))
    assert ID_NUMBER not in values and mask_id_number(ID_NUMBER) in values
    assert audit_actions(built, "export.register_full") == []


def finds_by(web, slug: str, q: str) -> bool:
    return any(h["code"] for h in web.get(f"/v/{slug}/households/lookup?q={q}").get_json())


def test_long_fragment_search_is_allowed_to_a_township_admin_in_its_township_and_audited(built, web):
    web.login("ta")
    assert finds_by(web, "dongcun", ID_NUMBER[-8:])
    assert finds_by(web, "dongcun", PHONE[2:9])
    assert audit_actions(built, "household.search") == [("ta", "dongcun"), ("ta", "dongcun")]
    assert web.get(f"/v/beicun/households/lookup?q={ID_NUMBER[-8:]}").status_code == 403


def test_long_fragment_search_finds_nothing_for_a_township_viewer(built, web):
    web.login("tv")
    assert finds_by(web, "dongcun", ID_NUMBER[-4:])
    assert not finds_by(web, "dongcun", ID_NUMBER[-8:])
    assert not finds_by(web, "dongcun", PHONE[2:9])
    assert audit_actions(built, "household.search") == []
