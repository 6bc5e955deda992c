"""The township's pages and scoping on the web: a township user sees its villages and
dashboard, and is refused everything of another township."""
import io

import openpyxl
import pytest

from villagepoints import villages
from villagepoints.extensions import db
import township_world as world

OTHER_TOWNSHIP_PAGES = [
    "/v/beicun/households",
    "/v/beicun/quarters/2026Q3",
    "/v/beicun/quarters",
    "/v/beicun/entries",
    "/v/beicun/store",
    "/v/beicun/exports",
    "/v/beicun/exports/lists?quarter=2026Q3",
    "/v/beicun/exports/register",
    "/v/beicun/settings",
    "/v/beicun/review",
    "/t/beixiang",
    "/t/beixiang/export?quarter=2026Q3",
]


@pytest.fixture
def built(app):
    with app.app_context():
        world.build()
        world.add_user("tv", "township_viewer", "dongxiang")
        world.add_user("ta", "township_admin", "dongxiang")
        world.add_user("clerk-bei", "clerk", slugs=("beicun",))
    return app


@pytest.mark.parametrize("username", ["tv", "ta"])
@pytest.mark.parametrize("url", OTHER_TOWNSHIP_PAGES)
def test_a_township_user_is_refused_every_page_of_another_township(built, web, username, url):
    web.login(username)
    assert web.get(url).status_code == 403


def test_a_township_user_is_refused_publishing_in_another_township(built, web):
    web.login("ta")
    web.get("/v/dongcun/quarters/2026Q4")
    response = web.post("/v/beicun/quarters/2026Q3/publish", {"notice_days": "7", "contact": ""})
    assert response.status_code == 403


def test_unknown_township_is_not_found(built, web):
    web.login("tv")
    assert web.get("/t/nowhere").status_code == 404


def test_a_township_viewer_reads_every_village_of_its_township_but_writes_nothing(built, web):
    web.login("tv")
    home = web.get("/").get_data(as_text=True)
    assert "东村" in home and "南村" in home and "西村" in home and "北村" not in home
    for slug in ("dongcun", "nancun", "xicun"):
        assert web.get(f"/v/{slug}/households").status_code == 200
        assert web.get(f"/v/{slug}/quarters/2026Q4").status_code == 200
    assert web.get("/v/dongcun/entries/new").status_code == 403
    assert web.get("/v/dongcun/settings").status_code == 403
    assert web.get("/users").status_code == 403


def test_a_township_admin_changes_settings_of_its_villages_but_not_global_pages(built, web):
    web.login("ta")
    assert web.get("/v/nancun/settings").status_code == 200
    assert web.get("/villages/new").status_code == 403
    assert web.get("/audit").status_code == 403
    assert web.get("/users").status_code == 200


def test_a_township_admin_is_offered_the_admin_controls_of_its_villages(built, web):
    """Reopening a published quarter, setting star bands and editing rules are admin powers a
    township admin holds in its villages: the pages offer them, as they do to an admin."""
    web.login("ta")
    quarter = web.get("/v/dongcun/quarters/2026Q3").get_data(as_text=True)
    assert "重新开放本季度" in quarter
    year = web.get("/v/dongcun/years/2026").get_data(as_text=True)
    assert "/v/dongcun/years/2026/stars" in year
    rules_page = web.get("/v/dongcun/rules").get_data(as_text=True)
    assert "/v/dongcun/rules/new" in rules_page and "/edit" in rules_page
    web.post("/logout")
    web.login("tv")
    assert "重新开放本季度" not in web.get("/v/dongcun/quarters/2026Q3").get_data(as_text=True)
    assert "/edit" not in web.get("/v/dongcun/rules").get_data(as_text=True)


def test_user_admin_of_a_township_admin_offers_only_its_villages_and_users(built, web):
    web.login("ta")
    page = web.get("/users/new").get_data(as_text=True)
    assert "东村" in page and "南村" in page and "西村" in page
    assert "北村" not in page and "中村" not in page
    assert 'value="admin"' not in page and 'value="township_admin"' not in page
    listing = web.get("/users").get_data(as_text=True)
    assert "tv" in listing and "clerk-bei" not in listing
    with built.app_context():
        from villagepoints.models import User
        other = db.session.execute(db.select(User).filter_by(username="clerk-bei")).scalar_one().id
    assert web.get(f"/users/{other}/edit").status_code == 404
    dongcun = None
    with built.app_context():
        dongcun = villages.get_by_slug("dongcun").id
        beicun = villages.get_by_slug("beicun").id
    response = web.post("/users/new", {"username": "c9", "display_name": "", "role": "clerk",
                                       "villages": [str(beicun)], "township": "0",
                                       "password": world.PASSWORD, "confirm": world.PASSWORD})
    assert "北村不属于您的乡镇，不能分配" in response.get_data(as_text=True)
    response = web.post("/users/new", {"username": "c9", "display_name": "", "role": "clerk",
                                       "villages": [str(dongcun)], "township": "0",
                                       "password": world.PASSWORD, "confirm": world.PASSWORD},
                        follow_redirects=True)
    assert "已新建用户 c9" in response.get_data(as_text=True)


def test_dashboard_shows_villages_side_by_side_with_charts_and_lists(built, web):
    web.login("tv")
    page = web.get("/t/dongxiang?quarter=2026Q4").get_data(as_text=True)
    assert "东乡镇 · 2026年第四季度" in page
    for name in ("东村", "南村", "西村"):
        assert name in page
    assert page.count('<svg class="chart"') == 4
    assert 'role="img"' in page and "<details" in page
    assert "各村参与率" in page and "全乡镇农户排名" in page and "全乡镇黑榜" in page
    assert "还没有公示的村" in page and "待审核积分记录" in page
    assert "<script" not in page.split("</nav>")[1]


def test_dashboard_sorts_by_a_column_both_ways(built, web):
    web.login("tv")

    def order(query):
        page = web.get(f"/t/dongxiang?quarter=2026Q4&{query}").get_data(as_text=True)
        table = page.split('class="township-villages"')[1].split("</table>")[0]
        return [n for n in sorted(("东村", "南村", "西村"), key=table.index)]

    assert order("sort=households&order=desc") == ["东村", "西村", "南村"]
    assert order("sort=households&order=asc") == ["南村", "西村", "东村"]


def test_township_workbook_has_a_summary_and_one_sheet_per_village(built, web):
    web.login("tv")
    response = web.get("/t/dongxiang/export?quarter=2026Q3")
    assert response.status_code == 200
    assert "township.xlsx" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    response.close()  # the file behind the response is closed with it
    assert book.sheetnames == ["汇总", "全乡镇黑榜", "东村", "南村", "西村"]
    summary = book["汇总"]
    assert summary["A1"].value == "东乡镇2026年第三季度积分汇总"
    assert summary.print_title_rows
    names = [row[1].value for row in summary.iter_rows(min_row=5) if row[1].value]
    assert sorted(names) == ["东村", "南村", "西村"]
    assert book["东村"]["A2"].value == "第1版"


def test_the_workbook_lists_the_whole_township_black_list_as_the_dashboard_names_it(built, web):
    from villagepoints import rollup, townships
    from villagepoints.quarters import Quarter

    with built.app_context():
        _rows, _best, black = rollup.dashboard(townships.villages_of(townships.get_by_slug("dongxiang")),
                                               Quarter(2026, 4))
        expected = [[h.village_name, h.code or None, h.head_name, h.group or None, h.score, "；".join(h.reasons)]
                    for h in black]
    assert expected, "the world has black-listed households this quarter"
    web.login("tv")
    response = web.get("/t/dongxiang/export?quarter=2026Q4")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    response.close()
    sheet = book["全乡镇黑榜"]
    assert sheet["A1"].value == "东乡镇2026年第四季度黑榜"
    listed = [[c.value for c in row[:6]] for row in sheet.iter_rows(min_row=5) if row[0].value]
    assert listed == expected
    # Names are masked as each village says: 西村 shows only the group.
    assert all(row[2].endswith("某户") for row in listed if row[0] == "西村")


def test_a_long_township_black_list_names_the_lowest_and_points_to_the_workbook(built, web, monkeypatch):
    from villagepoints.web import township

    web.login("tv")
    whole = web.get("/t/dongxiang?quarter=2026Q4").get_data(as_text=True)
    monkeypatch.setattr(township, "BLACK_SHOWN", 1)
    page = web.get("/t/dongxiang?quarter=2026Q4").get_data(as_text=True)
    assert "这里列出积分最低的 1 户" in page and "全乡镇黑榜" in page
    assert "/t/dongxiang/export?quarter=2026Q4" in page
    assert "这里列出积分最低的" not in whole
    black_rows = lambda html: html.split("全乡镇黑榜", 1)[1].count("<tr>") - 1
    assert black_rows(page) == 1 < black_rows(whole)
