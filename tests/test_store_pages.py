"""The points store on the web: the counter, receipts, voids, items and stock, reports, the household page."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from store_world import earn, item, store_rules
from villagepoints import households, ledger, store, villages
from villagepoints.extensions import db
from villagepoints.models import AuditEntry, Item, Redemption

TODAY = dt.date.today()


def text(response) -> str:
    return response.get_data(as_text=True)


def token_of(response) -> str:
    return re.search(r'name="token" type="hidden" value="([^"]+)"', text(response)).group(1)


@pytest.fixture
def shop(app, make_village, make_user, make_household):
    """A village whose 张三 has 100 points and 李四 10; rice (20 a bag, 5 in stock) and soap (3, 10)."""
    make_village()
    make_user("keeper", "storekeeper")
    make_user("viewer1", "viewer")
    make_user("clerk1", "clerk")
    make_household(head_name="张三")
    make_household(head_name="李四")
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        store_rules(village)
        zhang, li = households.get_household(village, "0001"), households.get_household(village, "0002")
        earn(village, zhang, 100, TODAY)
        earn(village, li, 10, TODAY)
        rice = item(village, "大米", 20, stock=5)
        soap = item(village, "肥皂", 3, stock=10, unit="块")
        db.session.commit()
        return {"rice": rice.id, "soap": soap.id, "zhang": zhang.id, "li": li.id}


def counter(web, household="0001"):
    return web.get(f"/v/jiangba/store/redeem?household={household}")


def confirm(web, page, quantities: dict[int, int], household="0001", action="confirm", **extra):
    data = {"household": household, "token": token_of(page), "action": action, **extra}
    data.update({f"qty_{item_id}": str(q) for item_id, q in quantities.items()})
    return web.post("/v/jiangba/store/redeem", data)


def balance(app, household_id):
    with app.app_context():
        return ledger.balance(household_id)


def stock(app, item_id):
    with app.app_context():
        return db.session.get(Item, item_id).stock


def count(app, model):
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()


def test_storekeeper_redeems_at_the_counter_and_gets_a_receipt(app, web, shop):
    web.login("keeper")
    page = counter(web)
    body = text(page)
    assert "张三" in body and "可用积分" in body and "<dd>100</dd>" in body
    assert "大米" in body and "肥皂" in body
    response = confirm(web, page, {shop["rice"]: 2, shop["soap"]: 1})
    assert response.status_code == 302
    receipt = web.get(response.headers["Location"])
    body = text(receipt)
    assert f"DH{TODAY.year}-000001" in body and "兑换成功" in body
    assert "大米" in body and "2袋" in body and "肥皂" in body and "1块" in body
    assert "<strong>43</strong>" in body and "57 分" in body
    assert "keeper" in body and "打印小票" in body
    assert balance(app, shop["zhang"]) == 57
    assert (stock(app, shop["rice"]), stock(app, shop["soap"])) == (3, 9)


def test_a_double_submitted_confirm_redeems_once(app, web, shop):
    web.login("keeper")
    page = counter(web)
    first = confirm(web, page, {shop["rice"]: 1})
    second = confirm(web, page, {shop["rice"]: 1})
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    assert "已经提交过" in text(web.get(second.headers["Location"]))
    assert count(app, Redemption) == 1
    assert balance(app, shop["zhang"]) == 80 and stock(app, shop["rice"]) == 4
    # A fresh page has a fresh token, so the next customer's visit is its own redemption.
    assert token_of(counter(web)) != token_of(page)


def test_counter_says_how_many_points_are_missing_and_redeems_nothing(app, web, shop):
    web.login("keeper")
    page = counter(web, "0002")
    response = confirm(web, page, {shop["rice"]: 1}, household="0002")
    assert response.status_code == 200
    assert "可用积分 10 分，本次兑换需 20 分，还差 10 分" in text(response)
    assert count(app, Redemption) == 0 and stock(app, shop["rice"]) == 5


def test_counter_names_the_item_short_of_stock(app, web, shop):
    web.login("keeper")
    response = confirm(web, counter(web), {shop["rice"]: 6})
    assert count(app, Redemption) == 0
    # The refusal opens the form's error summary, linked to the short line's quantity.
    page = text(response)
    form = page[page.index('<form method="post"'):]
    summary = form.index("data-error-summary")
    assert summary < form.index('name="qty_')
    assert f'<a href="#qty_{shop["rice"]}">大米：库存只剩 5袋，要兑换 6袋，还差 1袋</a>' in form[summary:]


def test_counter_summary_lists_a_typing_slip_first_with_a_link_to_its_quantity(app, web, shop):
    web.login("keeper")
    response = confirm(web, counter(web), {shop["rice"]: 5000})
    page = text(response)
    form = page[page.index('<form method="post"'):]
    assert form.index("没有保存：有 1 处需要改正") < form.index('name="qty_')
    assert f'<a href="#qty_{shop["rice"]}">大米：数量应在0到999之间</a>' in form
    assert count(app, Redemption) == 0


def test_counter_refuses_a_deactivated_household(app, web, shop):
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        households.deactivate_household(None, households.get_household(village, "0001"), TODAY, "moved")
        db.session.commit()
    web.login("keeper")
    page = counter(web)
    assert "该户已注销，不能兑换" in text(page)
    response = confirm(web, page, {shop["rice"]: 1})
    assert "已注销，不能兑换" in text(response) and count(app, Redemption) == 0


def test_counter_without_script_totals_the_list_before_confirming(app, web, shop):
    web.login("keeper")
    response = confirm(web, counter(web), {shop["rice"]: 2, shop["soap"]: 2}, action="preview")
    body = text(response)
    assert "<dd data-total>46</dd>" in body and "54</dd>" in body
    assert count(app, Redemption) == 0


def test_counter_finds_a_household_by_pinyin_initials_and_refuses_an_unknown_one(web, shop):
    web.login("keeper")
    assert "张三" in text(counter(web, "zs"))
    assert "找不到户编号、姓名或拼音首字母为“wangwu”的在册农户" in text(counter(web, "wangwu"))


def test_counter_refuses_nothing_chosen_and_bad_quantities(app, web, shop):
    web.login("keeper")
    page = counter(web)
    assert "请至少选择一样商品" in text(confirm(web, page, {}))
    response = web.post("/v/jiangba/store/redeem", {
        "household": "0001", "token": token_of(page), "action": "confirm", f"qty_{shop['rice']}": "两袋",
    })
    assert "不是有效的整数" in text(response)
    assert count(app, Redemption) == 0


def test_void_from_the_receipt_returns_points_and_stock_and_cannot_be_repeated(app, web, shop):
    web.login("keeper")
    receipt_url = confirm(web, counter(web), {shop["rice"]: 2}).headers["Location"]
    void_url = receipt_url + "/void"
    assert "作废时请写明原因" in text(web.post(void_url, {"reason": ""}))
    response = web.post(void_url, {"reason": "拿错了"}, follow_redirects=True)
    body = text(response)
    assert "已作废兑换单" in body and "已作废" in body and "拿错了" in body
    assert "确认作废" not in body
    assert balance(app, shop["zhang"]) == 100 and stock(app, shop["rice"]) == 5
    again = web.post(void_url, {"reason": "再来一次"})
    assert "不能重复作废" in text(again)
    assert balance(app, shop["zhang"]) == 100


def test_only_storekeepers_and_admins_redeem_and_manage_stock(app, web, shop, make_user):
    web.login("keeper")
    receipt_url = confirm(web, counter(web), {shop["soap"]: 1}).headers["Location"]
    assert "积分超市" in text(web.get("/v/jiangba/households"))
    web.client.post("/logout", data={"csrf_token": web.token})
    web.login("viewer1")
    assert "积分超市</a>" not in text(web.get("/v/jiangba/households"))
    for url in ("/v/jiangba/store/redeem", "/v/jiangba/store/items/new",
                f"/v/jiangba/store/items/{shop['rice']}/stock-in", f"/v/jiangba/store/items/{shop['rice']}/stocktake"):
        assert web.get(url).status_code == 403, url
    assert web.post(receipt_url + "/void", {"reason": "x"}).status_code == 403
    # Reading is open to everyone in the village, without the buttons.
    page = web.get(receipt_url)
    assert page.status_code == 200 and "作废此兑换单" not in text(page)
    assert web.get("/v/jiangba/store/redemptions").status_code == 200
    make_user("boss", "admin", slugs=())
    web.client.post("/logout", data={"csrf_token": web.token})
    web.login("boss")
    assert counter(web).status_code == 200


def test_storekeeper_adds_an_item_stocks_it_and_counts_it(app, web, shop):
    web.login("keeper")
    response = web.post("/v/jiangba/store/items/new", {
        "name": "洗衣粉", "unit": "袋", "price": "8", "category": "日用品", "active": "y", "note": "",
    })
    assert response.status_code == 302 and response.headers["Location"].endswith("/stock-in")
    with app.app_context():
        powder = db.session.execute(db.select(Item).filter_by(name="洗衣粉")).scalar_one()
    base = f"/v/jiangba/store/items/{powder.id}"
    web.post(base + "/stock-in", {
        "quantity": "12", "source": "donation", "supplier": "县妇联", "moved_on": TODAY.isoformat(), "note": "",
    })
    web.post(base + "/stocktake", {"counted": "11", "reason": "破损1袋", "moved_on": TODAY.isoformat()})
    body = text(web.get(base))
    assert "现有库存" in body and "<strong>11</strong>" in body
    assert "捐赠，来自 县妇联" in body and "盘点实有 11袋" in body and "破损1袋" in body
    with app.app_context():
        refreshed = db.session.get(Item, powder.id)
        assert refreshed.stock == store.movement_sum(refreshed) == 11
    assert "入库数量应在1到" in text(web.post(base + "/stock-in", {
        "quantity": "0", "source": "purchase", "moved_on": TODAY.isoformat(),
    }))
    assert "本村已有名为“大米”的商品" in text(web.post("/v/jiangba/store/items/new", {
        "name": "大米", "unit": "袋", "price": "8",
    }))


def test_a_new_price_applies_to_later_redemptions_only(app, web, shop):
    web.login("keeper")
    first = confirm(web, counter(web), {shop["rice"]: 1}).headers["Location"]
    web.post(f"/v/jiangba/store/items/{shop['rice']}/edit", {
        "name": "大米", "unit": "袋", "price": "25", "category": "日用品", "active": "y",
    })
    second = confirm(web, counter(web), {shop["rice"]: 1}).headers["Location"]
    assert "<td class=\"num\">20</td>" in text(web.get(first))
    assert "<td class=\"num\">25</td>" in text(web.get(second))
    assert balance(app, shop["zhang"]) == 55


def test_an_item_taken_off_the_shelf_is_no_longer_offered(app, web, shop):
    web.login("keeper")
    page = counter(web)
    web.post(f"/v/jiangba/store/items/{shop['soap']}/edit", {"name": "肥皂", "unit": "块", "price": "3"})
    assert f'name="qty_{shop["soap"]}"' not in text(counter(web))
    response = confirm(web, page, {shop["soap"]: 1})
    assert "“肥皂”已下架，不能兑换" in text(response)


def test_redemptions_ledger_totals_by_day_month_item_and_household(app, web, shop):
    web.login("keeper")
    confirm(web, counter(web), {shop["rice"]: 1, shop["soap"]: 2})
    confirm(web, counter(web), {shop["soap"]: 1})
    voided = confirm(web, counter(web), {shop["rice"]: 1}).headers["Location"]
    web.post(voided + "/void", {"reason": "拿错了"})
    body = text(web.get("/v/jiangba/store/redemptions?by=item"))
    assert "<dd>2</dd>" in body and "<dd>4</dd>" in body and "<dd>29</dd>" in body
    assert "另有 1 笔已作废" in body
    assert re.search(r"肥皂</a></td>\s*<td class=\"num\">2</td><td class=\"num\">3</td><td class=\"num\">9</td>", body)
    month = text(web.get(f"/v/jiangba/store/redemptions?by=month&month={TODAY:%Y-%m}"))
    assert f"{TODAY.year}年{TODAY.month}月" in month
    only_soap = text(web.get(f"/v/jiangba/store/redemptions?by=household&item={shop['soap']}"))
    assert "<dd>9</dd>" in only_soap and "张三（0001）" in only_soap
    nobody = text(web.get("/v/jiangba/store/redemptions?household=0002"))
    assert "只看户编号 <strong>0002</strong>" in nobody and "兑换明细（0 笔）" in nobody


def test_stock_page_values_stock_at_current_prices(web, shop):
    web.login("viewer1")
    body = text(web.get("/v/jiangba/store/stock"))
    assert "5袋" in body and "<td class=\"num\">100</td>" in body and "<strong>130</strong>" in body


def test_household_page_shows_its_redemptions_and_when_points_expire(app, web, shop, make_user):
    web.login("keeper")
    receipt_url = confirm(web, counter(web), {shop["rice"]: 1}).headers["Location"]
    page = text(web.get("/v/jiangba/households/0001"))
    assert "积分超市兑换（1 笔）" in page and f"DH{TODAY.year}-000001" in page and "大米×1" in page
    assert receipt_url.split("localhost")[-1] in page
    assert "将于" not in page
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        store.set_points_expire(None, village, True)
        earn(village, households.get_household(village, "0001"), 30, dt.date(TODAY.year - 1, 6, 1))
        db.session.commit()
    page = text(web.get("/v/jiangba/households/0001"))
    assert f"{TODAY.year - 1}年获得、尚未用完的 30 分将于 {TODAY.year}-12-31 到期" not in page
    # 20 of last year's 30 points went on the rice (oldest points first); 10 are left to expire.
    assert f"{TODAY.year - 1}年获得、尚未用完的 10 分将于 {TODAY.year}-12-31 到期" in page


def test_admin_turns_points_expiry_on_in_the_village_settings(app, web, shop, make_user):
    make_user("boss", "admin", slugs=())
    web.login("boss")
    page = text(web.get("/v/jiangba/settings"))
    assert "积分按年过期" in page and 'name="points_expire"' in page
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        form = {
            "name": village.name, "base_score": "100", "require_review": "y", "red_list_size": "3",
            "categories": "、".join(village.categories), "points_expire": "y",
            "red_top_enabled": "y", "red_honours_enabled": "y", "black_below_base_enabled": "y",
            "black_aid_enabled": "y", "black_trigger_enabled": "y", "black_naming": "masked",
            "notice_days": "7", "objection_contact": "",
        }
    response = web.post("/v/jiangba/settings", form)
    assert response.status_code == 302
    with app.app_context():
        assert villages.get_by_slug("jiangba").points_expire is True
        logged = db.session.execute(
            db.select(AuditEntry).where(AuditEntry.action == "village.update").order_by(AuditEntry.id.desc())
        ).scalars().first()
        assert '"points_expire": true' in logged.after


def test_store_pages_of_another_village_are_not_found(app, web, shop, make_village):
    make_village("其他村", "other")
    with app.app_context():
        other_item = item(villages.get_by_slug("other"), "酱油", 5, stock=1).id
        db.session.commit()
    web.login("keeper")
    assert web.get(f"/v/jiangba/store/items/{other_item}").status_code == 404
    assert web.get("/v/jiangba/store/redemptions/999999").status_code == 404


def test_store_front_page_lists_todays_redemptions_and_low_stock(web, shop):
    web.login("keeper")
    confirm(web, counter(web), {shop["rice"]: 1})
    body = text(web.get("/v/jiangba/store"))
    assert "今日兑换（1 笔）" in body and "张三" in body
    assert "大米" in body and "剩 4袋" in body


def test_voided_receipt_shows_the_households_balance_now_not_the_stale_balance_after(app, web, shop):
    web.login("keeper")
    first = confirm(web, counter(web), {shop["rice"]: 2}).headers["Location"]  # 100 - 40 = 60 left
    page = text(web.get(first))
    assert "兑换后余额" in page and "60 分" in page
    web.post(first + "/void", {"reason": "拿错了"})  # back to 100
    confirm(web, counter(web), {shop["soap"]: 3})  # then 100 - 9 = 91
    page = text(web.get(first))
    assert "兑换后余额" not in page and "60 分" not in page
    assert re.search(r"该户现在可用积分</dt><dd[^>]*><strong>91</strong> 分", page)
    assert "此单已作废：40 分已退回农户，商品已退回库存" in page
    assert "<title>兑换单" in page and "（已作废） - " in page
    # The paper copy carries the mark too: the heading's print-only suffix and the stamp.
    assert '<span class="print-only">（已作废）</span>' in page and "data-void-mark" in page
