"""Control characters (a bell, a vertical tab, NUL) are dropped where text comes in, and an
export never fails because one is already stored."""
import datetime as dt
import io

import openpyxl
import pytest
from export_village import DAY, Q3, export_bytes, read

from villagepoints import households, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields, create_household
from villagepoints.models import Household
from villagepoints.text import clean_text

BELL_NAME = "张\x07三\x0b"


def test_the_cleaner_keeps_text_tabs_and_line_breaks_and_drops_the_rest():
    assert clean_text("张\x00三\x07\x0b\x0c\x1b\x7f\x85") == "张三"
    assert clean_text("第一行\r\n第二行\r第三行\t完") == "第一行\n第二行\n第三行\t完"


@pytest.mark.parametrize("kind,options", [
    ("notice", {"quarter": Q3}), ("lists", {"quarter": Q3}), ("entries", {"quarter": Q3}),
    ("register", {}), ("annual", {"year": 2026}),
])
def test_exports_drop_control_characters_already_stored(app, make_village, ctx, kind, options):
    make_village(require_review=False)
    village = villages.get_by_slug("jiangba")
    household = create_household(None, village, HouseholdFields(
        head_name="张三", group=village.groups[0], joined_on=dt.date(2020, 1, 1)))
    ledger.make_entry(None, village, household, rules.rule_by_code(village, "P06"), DAY, 8, evidence=True,
                      note="好\x07人", today=dt.date(2026, 12, 31))
    db.session.flush()
    # Older rows, written before input was cleaned, still hold the characters.
    db.session.execute(db.update(Household).where(Household.id == household.id).values(
        head_name=BELL_NAME, address="一\x1b号"))
    db.session.commit()
    data, _name = export_bytes(village, kind, **options)
    cells = [c for ws in read(data).worksheets for row in ws.iter_rows(values_only=True) for c in row]
    assert any(isinstance(c, str) and "张三" in c for c in cells)
    assert not any(isinstance(c, str) and ("\x07" in c or "\x0b" in c) for c in cells)


def test_household_form_drops_control_characters(web, make_village, make_user, app):
    make_village()
    web.login(make_user("clerk1", "clerk"))
    page = web.post("/v/jiangba/households/new", {"head_name": BELL_NAME, "members": "3",
                                                  "note": "第一行\r\n第二\x00行"}, follow_redirects=True)
    assert page.status_code == 200
    with app.app_context():
        household = db.session.execute(db.select(Household)).scalar_one()
        assert household.head_name == "张三"
        assert "\x00" not in household.note and "第二行" in household.note


def test_import_drops_control_characters_from_cells(ctx, make_village):
    from import_workbooks import csv_bytes

    from villagepoints.household_import import apply_import, plan_import

    make_village()
    village = villages.get_by_slug("jiangba")
    data = csv_bytes([["户号", "户主", "组别", "人口数", "家庭住址"], ["0001", "李\x0b四\x07", "一组", 3, "二\x00号"]])
    apply_import(None, village, plan_import(village, data, "名册.csv"))
    db.session.commit()
    household = households.get_household(village, "0001")
    assert (household.head_name, household.address) == ("李四", "二号")


def test_cli_add_village_drops_control_characters(runner, app):
    result = runner.invoke(args=["add-village", "蒋\x07坝村", "--slug", "jiangba", "--groups", "一组,二\x0b组"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        assert village.name == "蒋坝村"
        assert [g.name for g in village.groups] == ["一组", "二组"]


def test_nul_in_login_and_lookup_is_an_ordinary_refusal(web, make_village):
    make_village()
    page = web.post("/login", {"username": "ad\x00min", "password": "x\x00y"})
    assert page.status_code == 200 and "用户名或密码错误" in page.get_data(as_text=True)
    page = web.post("/board/jiangba/lookup", {"code": "00\x0001", "id_tail": "12\x003"})
    assert page.status_code == 200


def test_register_search_with_nul_is_no_error(web, make_village, make_user, make_household):
    make_village()
    make_household(head_name="张三")
    web.login(make_user("viewer1", "viewer"))
    page = web.get("/v/jiangba/households?q=%E5%BC%A0%00")
    assert page.status_code == 200 and "张三" in page.get_data(as_text=True)
