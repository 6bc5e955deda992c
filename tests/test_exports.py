"""The printable Excel exports, read back with openpyxl as Excel would open them."""
import datetime as dt

import pytest
from export_village import (
    CONTACT,
    DAY,
    FORMULA_NAME,
    ID_NUMBER,
    PUBLISH_DAY,
    Q3,
    RANKED,
    commit,
    export_bytes,
    fill,
    read,
    sheet_xml,
    table,
)

from villagepoints import annual, exports, ledger, publication, rules, store, villages
from villagepoints.exports.printing import BODY_FONT, FOOTER, TITLE_FONT
from villagepoints.extensions import db
from villagepoints.models import AuditEntry, Household
from villagepoints.tally import quarter_tally

HEADER_ROW = 3
CJK_FONTS = {BODY_FONT, TITLE_FONT}


@pytest.fixture
def village(app, make_village, ctx):
    make_village()
    v = villages.get_by_slug("jiangba")
    fill(v)
    commit()
    return v


@pytest.fixture
def homes(village):
    """The village's households by head name."""
    rows = db.session.execute(db.select(Household).filter_by(village_id=village.id)).scalars()
    return {h.head_name: h for h in rows}


def body(ws):
    return table(ws, HEADER_ROW + 1)


def test_open_quarter_notice_is_a_draft_holding_the_live_tally(village):
    data, name = export_bytes(village, "notice", quarter=Q3)
    ws = read(data).active
    assert name.name == "蒋坝村-2026Q3-积分公示-草稿.xlsx"
    assert ws["A1"].value == "蒋坝村2026年第三季度农户积分公示（草稿）"
    assert "A1:I1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].value.startswith("草稿")
    assert [c.value for c in ws[HEADER_ROW]] == ["序号", "村民小组", "户编号", "户主姓名", "基础分", "加分", "扣分",
                                                  "季度积分", "排名"]
    tally = quarter_tally(village, Q3)
    assert body(ws) == [[i, t.group, t.code, t.head_name, t.base, t.plus, t.minus, t.score, t.rank]
                        for i, t in enumerate(tally, start=1)]
    assert [r[3] for r in body(ws)] == RANKED
    assert ws.oddHeader.right.text == "草稿"


def test_published_notice_prints_the_snapshot_its_version_period_and_signature(village):
    publication.publish(None, village, Q3, today=PUBLISH_DAY)
    village.base_score = 50  # later changes never alter what was published
    data, name = export_bytes(village, "notice", quarter=Q3)
    ws = read(data).active
    assert name.name == "蒋坝村-2026Q3-积分公示.xlsx"
    assert ws["A1"].value == "蒋坝村2026年第三季度农户积分公示"
    assert ws["A2"].value == "第1版　公示期：2026年10月8日至2026年10月14日"
    assert body(ws)[0][4:8] == [100, 8, 0, 108]
    texts = [row[0] for row in ws.iter_rows(min_row=HEADER_ROW + 8, values_only=True) if row[0]]
    assert any(CONTACT in t for t in texts)
    assert texts[-2:] == ["积分管理小组（盖章）", "2026年10月8日"]
    assert ws.oddHeader.right.text == "第1版"

    publication.reopen(None, village, Q3, "张三的分数录错")
    ws = read(export_bytes(village, "notice", quarter=Q3)[0]).active
    assert "草稿" in ws["A1"].value
    publication.publish(None, village, Q3, today=dt.date(2026, 10, 10))
    ws = read(export_bytes(village, "notice", quarter=Q3)[0]).active
    assert ws["A2"].value.startswith("第2版")


@pytest.mark.parametrize("kind, options, landscape", [
    ("notice", {"quarter": Q3}, False),
    ("lists", {"quarter": Q3}, False),
    ("entries", {"quarter": Q3}, True),
    ("store", {"year": 2026}, True),
    ("register", {}, True),
    ("annual", {"year": 2026}, False),
])
def test_every_printable_export_is_set_up_for_a4(village, kind, options, landscape):
    ws = read(export_bytes(village, kind, **options)[0]).active
    assert int(ws.page_setup.paperSize) == 9
    assert ws.page_setup.orientation == ("landscape" if landscape else "portrait")
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert (int(ws.page_setup.fitToWidth), int(ws.page_setup.fitToHeight)) == (1, 0)
    assert ws.print_title_rows == f"$1:${HEADER_ROW}"
    assert ws.freeze_panes == f"A{HEADER_ROW + 1}"
    assert ws.oddFooter.center.text == FOOTER == "第 &P 页 共 &N 页"
    title_range = next(r for r in ws.merged_cells.ranges if r.min_row == 1)
    assert (title_range.min_col, title_range.max_col) == (1, ws.max_column)
    assert ws["A1"].font.name in CJK_FONTS and ws["A1"].font.b
    # The lists put their heading (光荣榜) between the header and the first row.
    first = ws.cell(HEADER_ROW + (2 if kind == "lists" else 1), 1)
    assert first.font.name in CJK_FONTS
    if kind != "store":  # no redemptions here: a note says so instead of a table row
        assert first.border.left.style == first.border.bottom.style == "thin"
    header = ws.cell(HEADER_ROW, 1)
    assert header.font.b and header.border.top.style == "thin"
    assert all(ws.column_dimensions[c].width >= 6 for c in "ABCDE")


def test_names_typed_as_formulas_are_written_as_text(village):
    for kind, options in [("notice", {"quarter": Q3}), ("lists", {"quarter": Q3}), ("entries", {"quarter": Q3}),
                          ("register", {}), ("annual", {"year": 2026})]:
        data, _name = export_bytes(village, kind, **options)
        ws = read(data).active
        cells = [c for row in ws.iter_rows() for c in row if c.value == FORMULA_NAME]
        assert cells, kind
        assert all(c.data_type == "s" and c.quotePrefix for c in cells), kind
        assert "<f>" not in sheet_xml(data), kind
    register = read(export_bytes(village, "register")[0]).active
    address = next(c for row in register.iter_rows() for c in row if c.value == "+1号")
    assert address.data_type == "s" and address.quotePrefix
    entries = read(export_bytes(village, "entries", quarter=Q3)[0]).active
    assert any(c.value == "@备注" and c.quotePrefix for row in entries.iter_rows() for c in row)


def test_by_group_gives_each_group_its_own_sheet_with_village_ranks(village):
    data, name = export_bytes(village, "notice", quarter=Q3, by_group=True)
    book = read(data)
    assert name.name == "蒋坝村-2026Q3-积分公示-分组-草稿.xlsx"
    assert book.sheetnames == ["一组", "二组", "三组"]
    one = book["一组"]
    assert one["A1"].value == "蒋坝村2026年第三季度农户积分公示（一组）（草稿）"
    assert [(r[0], r[3], r[8]) for r in body(one)] == [(1, "张三", 1), (2, FORMULA_NAME, 3), (3, "王五", 5)]
    assert [r[3] for r in body(book["二组"])] == ["赵六", "李四"]
    for ws in book.worksheets:  # each sheet prints on its own, with its own title rows
        assert ws.print_title_rows == f"$1:${HEADER_ROW}"
        assert int(ws.page_setup.paperSize) == 9


def test_one_group_notice_and_lists(village):
    group = villages.find_group(village, "二组")
    data, name = export_bytes(village, "notice", quarter=Q3, group=group)
    assert name.name == "蒋坝村-二组-2026Q3-积分公示-草稿.xlsx"
    ws = read(data).active
    assert [r[3] for r in body(ws)] == ["赵六", "李四"]
    ws = read(export_bytes(village, "lists", quarter=Q3, group=group)[0]).active
    found = lists_rows(ws)
    assert [r[2] for r in found["光荣榜"]] == ["赵六"] and [r[2] for r in found["臊皮榜"]] == ["李*"]


def lists_rows(ws):
    """Return {heading: [(序号, 小组, 户主, 积分, 理由)]} from a lists sheet."""
    found, current = {}, None
    for row in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        if row[0] in ("光荣榜", "臊皮榜"):
            current = found.setdefault(row[0], [])
        elif current is not None and isinstance(row[0], int):
            current.append(tuple(row))
        elif current is not None and row[0] is None:
            current = None
    return found


@pytest.mark.parametrize("naming, shown", [("masked", "李*"), ("group", "二组某户"), ("full", "李四")])
def test_lists_are_large_type_and_name_the_black_list_by_village_policy(village, homes, naming, shown):
    village.black_naming = naming
    ledger.add_honour(None, homes["王五"], "文明家庭", DAY)
    data, name = export_bytes(village, "lists", quarter=Q3)
    assert name.name == "蒋坝村-2026Q3-红黑榜-草稿.xlsx"
    ws = read(data).active
    assert ws["A1"].value == "蒋坝村2026年第三季度光荣榜·臊皮榜（草稿）"
    found = lists_rows(ws)
    assert [(r[2], r[4]) for r in found["光荣榜"]] == [
        ("张三", "季度积分排名第1"), ("赵六", "季度积分排名第2"), (FORMULA_NAME, "季度积分排名第3"),
        ("王五", "获评文明家庭"),
    ]
    assert found["臊皮榜"] == [(1, "二组", shown, 95, "积分低于基础分（95分）")]
    # The black list starts on a new page, right after the red list.
    black_row = next(c.row for c in ws["A"] if c.value == "臊皮榜")
    assert [b.id for b in ws.row_breaks.brk] == [black_row - 1]
    assert ws.cell(HEADER_ROW + 2, 3).font.sz >= 16
    assert next(c for c in ws["A"] if c.value == "光荣榜").font.sz >= 24


def test_entries_export_lists_every_entry_of_the_quarter(village, homes):
    village.require_review = True
    rule = rules.rule_by_code(village, "P06")
    ledger.make_entry(None, village, homes["钱七"], rule, dt.date(2026, 9, 30), 4, evidence=True,
                      today=dt.date(2026, 12, 31))
    ledger.make_entry(None, village, homes["钱七"], rule, dt.date(2026, 10, 1), 4, evidence=True,
                      today=dt.date(2026, 12, 31))
    data, name = export_bytes(village, "entries", quarter=Q3)
    assert name.name == "蒋坝村-2026Q3-积分记录.xlsx"
    ws = read(data).active
    assert ws["A1"].value == "蒋坝村2026年第三季度积分记录"
    assert ws["A2"].value.startswith("共 6 条：待审核 1 条，已通过 5 条")
    rows = body(ws)
    assert len(rows) == 6
    first = rows[0]
    assert (first[1].date(), first[2], first[3], first[4], first[5], first[6], first[7], first[8]) == (
        DAY, "0001", "张三", "一组", "P06 见义勇为、好人好事", 8, "已通过", "命令行")
    assert rows[-1][1].date() == dt.date(2026, 9, 30) and rows[-1][7] == "待审核"


def test_register_masks_id_numbers_and_phones_unless_asked_in_full(village):
    data, name = export_bytes(village, "register")
    assert name.name == "蒋坝村-农户台账.xlsx"
    ws = read(data).active
    zhang = next(r for r in body(ws) if r[1] == "张三")
    assert zhang[2] == "110101********" + ID_NUMBER[-4:] and zhang[5] == "138****8000"
    assert ID_NUMBER not in sheet_xml(data) and "13800138000" not in str(list(ws.values))
    assert db.session.execute(db.select(AuditEntry).filter_by(action="export.register_full")).first() is None

    data, name = export_bytes(village, "register", full_personal_data=True)
    assert name.name == "蒋坝村-农户台账-完整信息.xlsx"
    zhang = next(r for r in body(read(data).active) if r[1] == "张三")
    assert (zhang[2], zhang[5]) == (ID_NUMBER, "13800138000")
    assert db.session.execute(db.select(AuditEntry).filter_by(action="export.register_full")).scalar_one()


def test_annual_export_gives_the_priority_list_with_appearances_and_stars(village):
    publication.publish(None, village, Q3, today=PUBLISH_DAY)
    annual.set_star_bands(None, village, 2026, [(1, 102), (3, 108)])
    data, name = export_bytes(village, "annual", year=2026)
    assert name.name == "蒋坝村-2026年-年度积分.xlsx"
    ws = read(data).active
    assert ws["A1"].value == "蒋坝村2026年度农户积分及三均衡优先名单"
    assert "3星）：108分及以上" in ws["A2"].value
    rows = body(ws)
    assert [(r[0], r[3], r[4], r[5], r[6], r[7]) for r in rows] == [
        (1, "张三", 108, 1, 0, "★★★"), (2, "赵六", 105, 1, 0, "★"), (3, FORMULA_NAME, 103, 1, 0, "★"),
        (4, "钱七", 102, 0, 0, "★"), (5, "王五", 100, 0, 0, None), (6, "李四", 95, 0, 1, None),
    ]


def test_store_export_lists_redemptions_with_voids_and_the_stock(village, homes):
    rice = store.create_item(None, village, store.ItemFields("大米", "袋", 5, "粮油"))
    store.create_item(None, village, store.ItemFields("=肥皂", "块", 2, "日用品"))
    store.stock_in(None, rice, 10, supplier="供销社", today=dt.date(2026, 8, 10))
    kept = store.redeem(None, village, homes["张三"], {rice.id: 1}, today=dt.date(2026, 8, 20))
    undone = store.redeem(None, village, homes["赵六"], {rice.id: 1}, today=dt.date(2026, 8, 21))
    store.void(None, undone, "登记错户", today=dt.date(2026, 8, 21))
    store.redeem(None, village, homes["赵六"], {rice.id: 1}, today=dt.date(2026, 10, 2))  # next quarter

    data, name = export_bytes(village, "store", quarter=Q3)
    assert name.name == "蒋坝村-2026Q3-积分超市台账.xlsx"
    book = read(data)
    assert book.sheetnames == ["兑换台账", "库存"]
    ledger_sheet = book["兑换台账"]
    assert ledger_sheet["A1"].value == "蒋坝村2026年第三季度积分超市兑换台账"
    assert ledger_sheet["A2"].value.startswith("共 2 单，其中作废 1 单；有效兑换兑出 1 件，合计 5 积分")
    rows = body(ledger_sheet)
    assert [(r[2], r[4], r[6], r[7], r[8], r[10]) for r in rows] == [
        (kept.receipt_no, "张三", "大米 1袋", 1, 5, "有效"),
        (undone.receipt_no, "赵六", "大米 1袋", 1, 5, "已作废（命令行：登记错户）"),
    ]
    stock = {r[1]: r for r in table(book["库存"], HEADER_ROW + 1)}
    assert stock["大米"][4:] == [5, 1, 8, 40, "在售"]
    soap = next(c for c in book["库存"]["B"] if c.value == "=肥皂")
    assert stock["=肥皂"][6] == 0 and soap.quotePrefix and soap.data_type == "s"

    data, name = export_bytes(village, "store", year=2026)
    assert name.name == "蒋坝村-2026年-积分超市台账.xlsx"
    assert len(body(read(data)["兑换台账"])) == 3


def test_template_export_is_the_household_import_template(village):
    from villagepoints import household_import

    data, name = export_bytes(village, "template")
    assert name.name == "农户导入模板.xlsx"
    assert [c.value for c in read(data).active[1]] == list(household_import.LABELS.values())


@pytest.mark.parametrize("kind, options, message", [
    ("notice", {}, "请选择季度"),
    ("annual", {}, "请选择年份"),
    ("entries", {"quarter": Q3, "by_group": True}, "只有积分公示和红黑榜可以按小组导出"),
    ("notice", {"quarter": Q3, "full_personal_data": True}, "只有农户台账"),
    ("nonsense", {}, "没有“nonsense”这种导出"),
    ("store", {}, "只选一个"),
    ("store", {"quarter": Q3, "year": 2026}, "只选一个"),
])
def test_options_that_do_not_fit_the_export_are_refused(village, kind, options, message):
    with pytest.raises(exports.ExportError, match=message):
        export_bytes(village, kind, **options)


def test_group_of_another_village_is_refused(village, make_village):
    make_village("白马村", "baima", groups=("一组",))
    other = villages.find_group(villages.get_by_slug("baima"), "一组")
    with pytest.raises(exports.ExportError, match="不属于本村"):
        export_bytes(village, "notice", quarter=Q3, group=other)


def test_empty_village_exports_say_there_is_nothing(app, make_village, ctx):
    make_village("空村", "kong", groups=())
    v = villages.get_by_slug("kong")
    ws = read(export_bytes(v, "notice", quarter=Q3)[0]).active
    assert ws.cell(HEADER_ROW + 1, 1).value == "本组本季度没有参加积分的农户"
    ws = read(export_bytes(v, "register")[0]).active
    assert ws.cell(HEADER_ROW + 1, 1).value == "本村还没有登记农户"


def test_cli_writes_the_notice_by_group(app, village, runner, tmp_path):
    out = tmp_path / "公示.xlsx"
    result = runner.invoke(args=["export", "notice", "--village", "jiangba", "--quarter", "2026Q3", "--by-group",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "积分公示已保存到" in result.output
    assert read(out.read_bytes()).sheetnames == ["一组", "二组", "三组"]


def test_cli_refuses_unknown_groups_and_bad_quarters_without_leaving_a_file(app, village, runner, tmp_path):
    out = tmp_path / "x.xlsx"
    result = runner.invoke(args=["export", "lists", "--village", "jiangba", "--quarter", "2026Q3", "--group", "九组",
                                 "--out", str(out)])
    assert result.exit_code != 0 and "本村没有叫“九组”的小组" in result.output
    result = runner.invoke(args=["export", "notice", "--village", "jiangba", "--quarter", "2026-3", "--out", str(out)])
    assert result.exit_code != 0 and "应写作 2026Q3" in result.output
    result = runner.invoke(args=["export", "annual", "--village", "jiangba", "--out", str(out)])
    assert result.exit_code != 0 and "请选择年份" in result.output
    assert not out.exists()


def test_cli_full_register_is_written_to_the_audit_log(app, village, runner, tmp_path):
    out = tmp_path / "台账.xlsx"
    result = runner.invoke(args=["export", "register", "--village", "jiangba", "--full-personal-data",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert ID_NUMBER in str(list(read(out.read_bytes()).active.values))
    db.session.rollback()
    entry = db.session.execute(db.select(AuditEntry).filter_by(action="export.register_full")).scalar_one()
    assert entry.actor == "命令行"
