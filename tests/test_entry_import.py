"""Importing points entries from a sheet: each row checked by the ledger, all or nothing."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from villagepoints import entry_import, ledger, rules, villages
from villagepoints.entry_import import EntryImportRefused, ImportRefused, apply_entry_import, plan_entry_import
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields, create_household, deactivate_household, get_household
from villagepoints.models import AuditEntry, Entry, QuarterState, User

from import_workbooks import csv_bytes, workbook, xlsx

TODAY = dt.date(2026, 8, 15)
IN_Q3 = dt.date(2026, 8, 1)
HEADERS = ["户编号", "户主姓名", "村民小组", "细则编号", "分值", "日期", "说明"]


@pytest.fixture
def world(app, make_village, make_user, ctx):
    """A village with households 0001 张三 (一组), 0002 李四 (二组), 0003 王五 (一组) and a clerk."""
    make_village()
    make_user("clerk1", "clerk")
    village = villages.get_by_slug("jiangba")
    for code, name, group in (("0001", "张三", "一组"), ("0002", "李四", "二组"), ("0003", "王五", "一组")):
        create_household(None, village, HouseholdFields(
            head_name=name, code=code, group=villages.find_group(village, group), joined_on=dt.date(2020, 1, 1),
        ))
    db.session.commit()
    clerk = db.session.execute(db.select(User).filter_by(username="clerk1")).scalar_one()
    return village, clerk


def plan(village, rows, *, headers=HEADERS, name="积分.xlsx"):
    return plan_entry_import(village, xlsx([headers, *rows]), name, today=TODAY)


def entries() -> list[Entry]:
    return list(db.session.execute(db.select(Entry).order_by(Entry.id)).scalars())


def only_problem(p) -> str:
    assert len(p.problems) == 1, [x.line() for x in p.problems]
    return p.problems[0].line()


def test_plan_reads_rows_with_the_rule_default_and_writes_nothing(world):
    village, _ = world
    p = plan(village, [
        ["0001", None, None, "P01", None, IN_Q3, "村民会议"],
        ["0002", None, None, "p06", 8, "2026/8/2", ""],
    ])
    assert p.problems == []
    assert [(r.household_code, r.rule_code, r.points, r.default_points) for r in p.rows] == [
        ("0001", "P01", 2, True), ("0002", "P06", 8, False),
    ]
    assert p.rows[1].entry_date == dt.date(2026, 8, 2)
    assert p.summary() == "可导入 2 条（涉及 2 户），拒绝 0 行"
    assert entries() == []


def test_apply_records_pending_entries_like_a_clerks_and_one_audit_line(world):
    village, clerk = world
    p = plan(village, [["0001", None, None, "P01", None, IN_Q3, ""], ["0003", None, None, "P03", 3, IN_Q3, ""]])
    result = apply_entry_import(clerk, village, p)
    db.session.commit()
    made = entries()
    assert [(e.household.code, e.points, e.status, e.source, e.created_by_name) for e in made] == [
        ("0001", 2, "pending", "import", "clerk1"), ("0003", 3, "pending", "import", "clerk1"),
    ]
    assert result.summary() == "导入 2 条积分记录（涉及 2 户）：待审核 2 条"
    log = db.session.execute(db.select(AuditEntry).filter_by(action="entry.import")).scalar_one()
    assert log.actor == "clerk1" and "积分.xlsx" in log.target
    # Each entry is in the log too, as any entry made through the ledger.
    assert len(db.session.execute(db.select(AuditEntry).filter_by(action="entry.create")).all()) == 2


def test_approve_records_the_entries_as_approved_by_the_command_line(world):
    village, _ = world
    p = plan(village, [["0001", None, None, "P01", None, IN_Q3, ""]])
    result = apply_entry_import(None, village, p, approve=True)
    entry = entries()[0]
    assert (entry.status, entry.reviewed_by_name, entry.created_by_name) == ("approved", "命令行", "命令行")
    assert result.approved == 1 and result.pending == 0
    assert ledger.scores_for(entry.household, TODAY).quarter_score == 102
    log = db.session.execute(db.select(AuditEntry).filter_by(action="entry.import")).scalar_one()
    assert log.actor == "命令行" and "--approve" in log.summary


def test_household_found_by_head_name_and_group(world):
    village, _ = world
    create_household(None, village, HouseholdFields(
        head_name="张三", group=villages.find_group(village, "二组"), joined_on=dt.date(2020, 1, 1),
    ))
    p = plan(village, [
        [None, "张三", "一组", "P01", None, IN_Q3, ""],
        [None, "李四", None, "P01", None, IN_Q3, ""],
    ])
    assert p.problems == []
    assert [r.household_code for r in p.rows] == ["0001", "0002"]


def test_ambiguous_head_name_is_refused_with_the_codes_to_choose_from(world):
    village, _ = world
    other = create_household(None, village, HouseholdFields(
        head_name="张三", group=villages.find_group(village, "二组"), joined_on=dt.date(2020, 1, 1),
    ))
    p = plan(village, [[None, "张三", None, "P01", None, IN_Q3, ""]])
    line = only_problem(p)
    assert line.startswith("第2行 户主姓名（张三）：本村有 2 户户主叫“张三”")
    assert "0001（一组）" in line and f"{other.code}（二组）" in line
    assert "请填写村民小组或户编号" in line
    assert p.rows == []


def test_code_and_head_name_that_disagree_are_refused(world):
    village, _ = world
    p = plan(village, [["0001", "李四", None, "P01", None, IN_Q3, ""]])
    assert "户编号 0001 的户主是“张三”，与这里的“李四”不符" in only_problem(p)


def test_code_without_its_leading_zeros_finds_the_household(world):
    village, _ = world
    p = plan(village, [[1, None, None, "P01", None, IN_Q3, ""]])
    assert p.problems == [] and p.rows[0].household_code == "0001"


def test_unknown_household_group_and_rule_are_refused(world):
    village, _ = world
    p = plan(village, [
        ["0099", None, None, "P01", None, IN_Q3, ""],
        [None, "赵六", "一组", "P01", None, IN_Q3, ""],
        [None, "张三", "九组", "P01", None, IN_Q3, ""],
        ["0001", None, None, "X99", None, IN_Q3, ""],
    ])
    lines = [x.line() for x in p.problems]
    assert lines == [
        "第2行 户编号：本村没有户编号为“0099”的农户",
        "第3行 户主姓名（赵六）：一组没有户主叫“赵六”的农户，请核对姓名和小组，或填写户编号",
        "第4行 村民小组（张三）：本村没有“九组”这个小组（本村小组：一组、二组、三组）",
        "第5行 细则编号：本村没有编号或名称为“X99”的积分细则，请对照积分细则页面填写编号或名称",
    ]


# -- each refusal of the issue, as a row problem naming the household and the rule --


def test_inactive_household_is_refused_naming_household_and_rule(world):
    village, _ = world
    deactivate_household(None, get_household(village, "0002"), dt.date(2026, 7, 1), "moved")
    line = only_problem(plan(village, [["0002", None, None, "P01", None, IN_Q3, ""]]))
    assert line.startswith("第2行 户编号：农户 0002 李四 已注销")
    assert "细则 P01" in line


def test_inactive_rule_is_refused_naming_household_and_rule(world):
    village, _ = world
    p01 = rules.rule_by_code(village, "P01")
    fields = rules.fields_of(p01)
    fields.active = False
    rules.update_rule(None, p01, fields)
    line = only_problem(plan(village, [["0001", None, None, "P01", None, IN_Q3, ""]]))
    assert line.startswith("第2行 细则编号：细则 P01“支持村两委工作、积极参加村民会议”已停用")
    assert "0001 张三" in line


@pytest.mark.parametrize("points, words", [(9, "分值应在 1 到 4 之间"), (-2, "加分项，分值应为正数")])
def test_points_outside_the_range_or_of_the_wrong_sign_are_refused(world, points, words):
    village, _ = world
    line = only_problem(plan(village, [["0001", None, None, "P01", points, IN_Q3, ""]]))
    assert line.startswith("第2行 分值：细则 P01")
    assert words in line and "0001 张三" in line


def test_cap_counts_existing_entries_and_earlier_rows_of_the_same_file(world):
    village, clerk = world
    p03 = rules.rule_by_code(village, "P03")
    fields = rules.fields_of(p03)
    fields.quarter_cap = 5
    rules.update_rule(None, p03, fields)
    ledger.make_entry(clerk, village, get_household(village, "0001"), p03, dt.date(2026, 7, 5), 2, today=TODAY)
    # 2 on file + 2 + 1 from rows 2 and 3 = 5; row 4 would make 6 > 5.
    # Other households and quarters start afresh.
    p = plan_entry_import(village, xlsx([HEADERS, *[
        ["0001", None, None, "P03", 2, dt.date(2026, 8, 1), "第一次"],
        ["0001", None, None, "P03", 1, dt.date(2026, 8, 2), "第二次"],
        ["0001", None, None, "P03", 1, dt.date(2026, 8, 3), "第三次"],
        ["0002", None, None, "P03", 4, dt.date(2026, 8, 2), ""],
        ["0001", None, None, "P03", 2, dt.date(2026, 10, 2), "下季度"],
    ]]), "x.xlsx", today=dt.date(2026, 10, 5))
    line = only_problem(p)
    assert line.startswith("第4行 分值：农户 0001 张三 在2026年第三季度已有细则 P03 的积分 +5")
    assert "超过每季度上限 5 分" in line
    assert [r.row for r in p.rows] == [2, 3, 5, 6]


def test_future_date_is_refused_naming_household_and_rule(world):
    village, _ = world
    line = only_problem(plan(village, [["0001", None, None, "P01", None, dt.date(2026, 8, 16), ""]]))
    assert line.startswith("第2行 日期：日期 2026-08-16 在今天之后")
    assert "农户 0001 张三" in line and "细则 P01" in line


@pytest.mark.parametrize("status, words", [("published", "已公示"), ("closed", "已结束")])
def test_date_in_a_published_or_closed_quarter_is_refused(world, status, words):
    village, _ = world
    db.session.add(QuarterState(village_id=village.id, quarter="2026Q2", status=status, version=1))
    p = plan(village, [
        ["0001", None, None, "P01", None, dt.date(2026, 6, 30), ""],
        ["0002", None, None, "P01", None, IN_Q3, ""],
    ])
    line = only_problem(p)
    assert line.startswith(f"第2行 日期：2026年第二季度{words}")  # in words, no raw 2026Q2
    assert "农户 0001 张三" in line and "细则 P01" in line
    assert [r.row for r in p.rows] == [3]


def test_minus_rule_needs_a_note_saying_where_the_paper_record_is(world):
    village, _ = world
    p = plan(village, [
        ["0001", None, None, "M03", None, IN_Q3, None],
        ["0002", None, None, "M03", None, IN_Q3, "检查记录本第3页，村委会存档"],
    ])
    line = only_problem(p)
    assert line.startswith("第2行 说明：细则 M03“家庭卫生差、乱堆乱放”需要依据：请在说明里写明")
    assert "0001 张三" in line
    assert [(r.household_code, r.points) for r in p.rows] == [("0002", -2)]


# -- all or nothing, and repeated rows --


def test_a_plan_with_problems_writes_nothing(world):
    village, clerk = world
    p = plan(village, [["0001", None, None, "P01", None, IN_Q3, ""], ["0099", None, None, "P01", None, IN_Q3, ""]])
    assert p.blocked and p.refused == 1 and len(p.rows) == 1
    with pytest.raises(EntryImportRefused, match="有 1 行有问题，没有导入任何数据"):
        apply_entry_import(clerk, village, p)
    assert entries() == []


def test_a_household_deactivated_after_the_preview_stops_the_whole_import(world):
    village, clerk = world
    p = plan(village, [["0001", None, None, "P01", None, IN_Q3, ""], ["0002", None, None, "P01", None, IN_Q3, ""]])
    assert not p.blocked
    deactivate_household(None, get_household(village, "0002"), dt.date(2026, 7, 1), "moved")
    with pytest.raises(EntryImportRefused) as refused:
        apply_entry_import(clerk, village, p)
    db.session.rollback()
    assert [x.line() for x in refused.value.problems][0].startswith("第3行 户编号：农户 0002 李四 已注销")
    assert entries() == []


def test_an_entry_made_after_the_preview_counts_against_the_cap_when_applying(world):
    village, clerk = world
    p03 = rules.rule_by_code(village, "P03")
    fields = rules.fields_of(p03)
    fields.quarter_cap = 4
    rules.update_rule(None, p03, fields)
    p = plan(village, [["0001", None, None, "P03", 3, IN_Q3, "义务劳动"]])
    assert not p.blocked
    ledger.make_entry(clerk, village, get_household(village, "0001"), p03, IN_Q3, 2, today=TODAY)
    with pytest.raises(EntryImportRefused) as refused:
        apply_entry_import(clerk, village, p)
    assert "超过每季度上限 4 分" in refused.value.problems[0].line()


def test_a_row_repeated_in_the_file_or_already_in_the_ledger_is_refused(world):
    village, clerk = world
    first = plan(village, [["0001", None, None, "P01", None, IN_Q3, "村民会议"]])
    apply_entry_import(clerk, village, first)
    again = plan(village, [
        ["0001", None, None, "P01", None, IN_Q3, "村民会议"],
        ["0002", None, None, "P01", None, IN_Q3, ""],
        ["0002", None, None, "P01", None, IN_Q3, ""],
    ])
    lines = [x.line() for x in again.problems]
    assert lines[0].startswith("第2行 细则编号：与已有的积分记录 #") and "可能已经导入过" in lines[0]
    assert lines[1].startswith("第4行 细则编号：与第3行完全相同")
    assert [r.row for r in again.rows] == [3]


# -- reading the file --


def test_csv_with_signed_text_points_and_alias_headers(world):
    village, _ = world
    data = csv_bytes([
        ["户号", "细则", "分数", "记分日期", "备注"],
        ["0001", "M04", "-3", "2026年8月1日", "巡查记录"],
        ["0002", "P05", "+3", "20260802", ""],
    ], encoding="gbk")
    p = plan_entry_import(village, data, "积分.csv", today=TODAY)
    assert p.problems == []
    assert [(r.household_code, r.points, r.entry_date) for r in p.rows] == [
        ("0001", -3, dt.date(2026, 8, 1)), ("0002", 3, dt.date(2026, 8, 2)),
    ]


def test_unreadable_cells_are_row_problems(world):
    village, _ = world
    p = plan(village, [
        [None, None, None, "P01", None, IN_Q3, ""],
        ["0001", None, None, None, None, IN_Q3, ""],
        ["0001", None, None, "P01", 2.5, IN_Q3, ""],
        ["0001", None, None, "P01", "三分", IN_Q3, ""],
        ["0001", None, None, "P01", None, "八月一日", ""],
        ["0001", None, None, "P01", None, None, ""],
    ])
    assert [x.line() for x in p.problems] == [
        "第2行 户编号：户编号和户主姓名都为空，请至少填写一项",
        "第3行 细则编号：细则为空，请填写细则编号或名称，例如 P01",
        "第4行 分值：分值应为整数，这里是2.5",
        "第5行 分值：分值应为整数，例如 3 或 -2，这里是“三分”",
        "第6行 日期：日期“八月一日”无法识别，请写成 2024-03-01 这样的格式",
        "第7行 日期：日期为空，请填写，例如 2026-07-01",
    ]


def test_a_sheet_without_a_household_column_is_refused_as_a_whole(world):
    village, _ = world
    with pytest.raises(ImportRefused, match="没有“户编号”或“户主姓名”列"):
        plan(village, [["P01", 2, IN_Q3]], headers=["细则编号", "分值", "日期"])


def test_problems_on_several_sheets_name_their_sheet(world):
    village, _ = world
    data = workbook({
        "一组": ([HEADERS, ["0001", None, None, "P01", None, IN_Q3, ""]], []),
        "二组": ([HEADERS, ["0002", None, None, "P99", None, IN_Q3, ""]], []),
    })
    p = plan_entry_import(village, data, "分组.xlsx", today=TODAY)
    assert p.several_sheets
    assert p.problems[0].line(with_sheet=True).startswith("【二组】第2行 细则编号")


def test_template_has_the_headers_and_its_example_row_is_refused(world):
    village, _ = world
    data = entry_import.template_bytes(IN_Q3)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet["A2"].value == "0001"
    line = only_problem(plan_entry_import(village, data, "积分导入模板.xlsx", today=TODAY))
    assert line == "第2行 说明（张三）：这是导入模板里的示例行，请删除后再导入"


def get_household(village, code):
    from villagepoints.households import get_household

    return get_household(village, code)


PAPER_HEADERS = ["户名", "村民小组", "加扣分事项", "得分", "时间", "登记人"]


def test_a_paper_score_sheet_names_the_rule_by_its_title_and_says_time_and_score(world):
    village, _ = world
    p = plan(village, [
        ["张三", "一组", "参加志愿服务", 2, IN_Q3, "村委会"],
        ["李四", "二组", "调解邻里矛盾，维护和谐", None, "2026/8/2", "村委会"],
        ["王五", "一组", "p06", 5, IN_Q3, "村委会"],
    ], headers=PAPER_HEADERS)
    assert p.problems == []
    assert [(r.household_code, r.rule_code, r.points, r.rule_written) for r in p.rows] == [
        ("0001", "P04", 2, "参加志愿服务"), ("0002", "P05", 3, "调解邻里矛盾,维护和谐"), ("0003", "P06", 5, ""),
    ]
    assert p.unused == ["登记人"]


def test_a_rule_title_with_a_slip_matches_its_one_close_rule(world):
    village, _ = world
    p = plan(village, [["张三", "一组", "参加志原服务活动", 2, IN_Q3, ""]], headers=PAPER_HEADERS)
    assert p.problems == [] and p.rows[0].rule_code == "P04"


def test_a_rule_title_close_to_several_rules_is_refused_listing_the_candidates(world):
    village, _ = world
    p = plan(village, [["张三", "一组", "参加", 2, IN_Q3, ""]], headers=PAPER_HEADERS)
    line = only_problem(p)
    assert line.startswith("第2行 加扣分事项（张三）：“参加”对应不到唯一的积分细则，可能是：")
    for candidate in ("P01“支持村两委工作、积极参加村民会议”", "P03“参加义务劳动、公益活动”", "P04“参加志愿服务”"):
        assert candidate in line
    assert line.endswith("请填写细则编号")


def test_a_rule_title_like_no_rule_is_refused(world):
    village, _ = world
    p = plan(village, [["张三", "一组", "植树造林", 2, IN_Q3, ""]], headers=PAPER_HEADERS)
    assert only_problem(p) == (
        "第2行 加扣分事项（张三）：本村没有编号或名称为“植树造林”的积分细则，请对照积分细则页面填写编号或名称"
    )


def test_entry_rows_read_the_same_from_xls_and_ods(world, tmp_path):
    from import_workbooks import soffice_convert

    village, _ = world
    data = xlsx([PAPER_HEADERS, ["张三", "一组", "参加志愿服务", 2, IN_Q3, ""], ["李四", "二组", "P05", 3, "2026-08-03", ""]])
    expected = [(r.household_code, r.rule_code, r.points, r.entry_date) for r in plan_entry_import(
        village, data, "积分.xlsx", today=TODAY).rows]
    assert len(expected) == 2
    for target in ("xls", "ods"):
        converted = soffice_convert(data, "积分.xlsx", target, tmp_path)
        got = plan_entry_import(village, converted, f"积分.{target}", today=TODAY)
        assert [(r.household_code, r.rule_code, r.points, r.entry_date) for r in got.rows] == expected, target


def test_imported_entry_and_its_log_line_read_like_one_the_ledger_makes(world):
    village, clerk = world
    apply_entry_import(clerk, village, plan(village, [["0001", None, None, "P01", None, IN_Q3, "调解记录本"]]))
    db.session.commit()
    imported = entries()[0]
    made = ledger.make_entry(clerk, village, imported.household, imported.rule, IN_Q3, note="调解记录本", today=TODAY)
    db.session.commit()
    db.session.expire_all()
    # The columns come back as the ORM stores them: dates, times, the review form's version.
    assert (imported.entry_date, imported.version, imported.points) == (made.entry_date, made.version, made.points)
    assert isinstance(imported.created_at, dt.datetime) and imported.reviewed_at is None
    logs = {
        line.target: line for line in db.session.execute(db.select(AuditEntry).filter_by(action="entry.create")).scalars()
    }
    imported_log = logs[f"积分记录 #{imported.id} 0001 张三"]
    made_log = logs[f"积分记录 #{made.id} 0001 张三"]
    # The household's history page reads these: the same JSON text, the same columns.
    assert imported_log.after == made_log.after
    assert (imported_log.actor, imported_log.user_id, imported_log.household_id, imported_log.before) == (
        made_log.actor, made_log.user_id, made_log.household_id, made_log.before,
    )
