"""The household import: planning (nothing written) and applying (all or nothing)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from villagepoints import audit, households, villages
from villagepoints.extensions import db
from villagepoints.household_import import (
    TEMPLATE_ID,
    ImportRefused,
    apply_import,
    plan_import,
    template_bytes,
)
from villagepoints.models import AuditEntry, Group, Household, User

from import_workbooks import csv_bytes, make_id, person_id, workbook, xlsx

HEADER = ["户编号", "户主姓名", "身份证号", "村民小组", "家庭人口", "联系电话", "户类别"]


@pytest.fixture
def village(ctx, make_village):
    """The test village (groups 一组, 二组, 三组), loaded in the test's app context."""
    make_village()
    return villages.get_by_slug("jiangba")


def plan(village, data: bytes, filename: str = "名册.xlsx", **options):
    return plan_import(village, data, filename, **options)


def run(village, data: bytes, filename: str = "名册.xlsx", **options):
    """Plan and apply an import, then commit, as the CLI and the confirm page do."""
    result = apply_import(None, village, plan(village, data, filename, **options))
    db.session.commit()
    return result


def register(village) -> dict[str, Household]:
    rows = db.session.execute(db.select(Household).where(Household.village_id == village.id)).scalars()
    return {h.code: h for h in rows}


def household_count() -> int:
    return db.session.execute(db.select(db.func.count(Household.id))).scalar_one()


def messy_workbook() -> bytes:
    """A register as a village office keeps it: titles, merged cells, blank rows, full-width text."""
    return xlsx(
        [
            ["蒋坝村农户基本情况登记表"],
            ["（2024年3月）"],
            ["户号", "户主", "证件号码", "组别", "人口数", "电话", "户属性", "家庭住址", "登记日期"],
            ["０００１", "张　三", person_id(1), "一组", 4, 13800138000, "党员户、脱贫户", "一组1号", dt.date(2024, 3, 1)],
            ["0002", "李四", person_id(2).replace("1", "１"), None, 3.0, "139 0000 0002", "一般户", None, "2024/3/2"],
            [None, None, None, None, None, None, None, None, None],
            ["0003", "王五", None, None, "2人", None, "低保户，五保户", None, None],
            ["0004", "赵六", person_id(4), "二组", 5, None, None, None, "2024年3月4日"],
        ],
        merges=["A1:I1", "A2:I2", "D4:D7"],
    )


def test_messy_workbook_is_planned_without_writing_anything(village):
    p = plan(village, messy_workbook())
    assert (p.added, p.updated, p.unchanged, p.refused) == (4, 0, 0, 0)
    assert p.problems == []
    assert household_count() == 0


def test_messy_workbook_imports_every_household_with_clean_values(village):
    result = run(village, messy_workbook())
    assert (result.added, result.updated, result.unchanged, result.refused) == (4, 0, 0, 0)
    got = register(village)
    zhang = got["0001"]
    assert zhang.head_name == "张三"
    assert zhang.id_number == person_id(1)
    assert zhang.phone == "13800138000"
    assert zhang.group.name == "一组"
    assert zhang.members == 4
    assert zhang.categories == ["党员户", "脱贫户"]
    assert zhang.joined_on == dt.date(2024, 3, 1)
    assert got["0002"].group.name == "一组"  # from the merged 组别 cell
    assert got["0002"].id_number == person_id(2)
    assert got["0002"].phone == "13900000002"
    assert got["0002"].joined_on == dt.date(2024, 3, 2)
    assert got["0003"].group.name == "一组"
    assert got["0003"].members == 2
    assert got["0003"].categories == ["低保户", "五保户"]
    assert got["0004"].group.name == "二组"
    assert got["0004"].joined_on == dt.date(2024, 3, 4)


def test_id_number_stored_as_a_number_is_refused_with_row_column_and_reason(village):
    data = xlsx([["户主姓名", "身份证号"], ["张三", 320102198500000010], ["李四", "3.20102E+17"]])
    p = plan(village, data)
    assert [(x.row, x.column) for x in p.problems] == [(2, "身份证号"), (3, "身份证号")]
    assert "存成了数字，末几位已丢失" in p.problems[0].message
    assert "文本" in p.problems[0].message
    with pytest.raises(ImportRefused):
        apply_import(None, village, p)
    assert household_count() == 0


def test_wrong_check_digit_names_the_problem(village):
    bad = person_id(1)[:17] + ("0" if person_id(1)[17] != "0" else "1")
    p = plan(village, xlsx([["户主姓名", "身份证号"], ["张三", bad]]))
    assert p.problems[0].line() == f"第2行 身份证号（张三）：{bad[:6]}********{bad[-4:]} 校验位不正确，请核对"


def test_missing_group_is_reported_and_listed_so_the_clerk_can_create_it(village):
    data = xlsx([["户主姓名", "村民小组"], ["张三", "五组"], ["李四", "五组"], ["王五", "六组"]])
    p = plan(village, data)
    assert p.missing_groups == ["五组", "六组"]
    assert {x.kind for x in p.problems} == {"missing_group"}
    assert "本村没有“五组”这个小组" in p.problems[0].message
    assert p.blocked


def test_missing_groups_are_created_when_the_clerk_chooses_to(village):
    data = xlsx([["户主姓名", "村民小组"], ["张三", "五组"], ["李四", "一组"]])
    result = run(village, data, create_groups=True)
    assert result.groups_created == ["五组"]
    assert villages.find_group(village, "五组") is not None
    assert {h.head_name: h.group.name for h in register(village).values()} == {"张三": "五组", "李四": "一组"}


def test_a_group_named_only_by_refused_rows_is_not_created(village):
    data = xlsx([["户主姓名", "村民小组", "家庭人口"], ["张三", "五组", 0], ["李四", "六组", 2]])
    p = plan(village, data, create_groups=True, skip_invalid=True)
    assert p.groups_to_create == ["六组"]
    result = apply_import(None, village, p)
    assert result.groups_created == ["六组"]
    assert villages.find_group(village, "五组") is None


def test_same_household_twice_in_one_file_is_reported_on_the_later_row(village):
    data = xlsx([
        HEADER,
        ["0001", "张三", person_id(1), "一组", 4, None, None],
        ["0002", "李四", person_id(2), "一组", 3, None, None],
        ["0001", "张三", None, "一组", 4, None, None],
        [None, "张三丰", person_id(2), "一组", 1, None, None],
    ])
    p = plan(village, data)
    lines = [x.line() for x in p.problems]
    assert lines[0].startswith("第4行 户编号（张三）：户编号“0001”与第2行重复")
    assert lines[1].startswith("第5行 身份证号（张三丰）：身份证号与第3行相同")
    assert p.refused == 2 and p.added == 2


def test_duplicates_across_sheets_name_the_other_sheet(village):
    data = workbook({
        "一组": ([["户编号", "户主姓名"], ["0001", "张三"]], []),
        "二组": ([["户编号", "户主姓名"], ["1", "张三"]], []),
    })
    p = plan(village, data)
    assert p.several_sheets
    assert p.problems[0].line(with_sheet=True).startswith("【二组】第2行 户编号（张三）：户编号“1”与工作表“一组”第2行重复")


def test_importing_the_same_file_again_changes_nothing(village):
    data = messy_workbook()
    run(village, data)
    before = db.session.execute(db.select(db.func.max(AuditEntry.id))).scalar_one()
    p = plan(village, data)
    assert (p.added, p.updated, p.unchanged) == (0, 0, 4)
    result = run(village, data)
    assert (result.added, result.updated, result.unchanged) == (0, 0, 4)
    assert household_count() == 4
    actions = db.session.execute(db.select(AuditEntry.action).where(AuditEntry.id > before)).scalars().all()
    assert actions == ["household.import"]


def test_rows_without_code_or_id_are_matched_by_name_and_group_on_reimport(village):
    data = xlsx([["户主姓名", "村民小组", "家庭人口"], ["张三", "一组", 3], ["李四", "二组", 2]])
    run(village, data)
    result = run(village, data)
    assert (result.added, result.unchanged) == (0, 2)
    assert household_count() == 2


def test_corrected_file_updates_households_matched_by_code_then_by_id(village):
    run(village, xlsx([
        ["户编号", "户主姓名", "身份证号", "村民小组", "家庭人口"],
        ["0001", "张三", person_id(1), "一组", 4],
        ["0002", "李四", person_id(2), "一组", 3],
    ]))
    corrected = xlsx([
        ["户编号", "户主姓名", "身份证号", "村民小组", "家庭人口"],
        ["0001", "张三", person_id(11), "二组", 5],   # by code: ID and group corrected
        [None, "李四", person_id(2), "三组", 3],       # by ID: group corrected
    ])
    # Replacing an ID number on file is an identity change: confirmed here, as the clerk would.
    p = plan(village, corrected, confirm_identity=True)
    assert (p.added, p.updated, p.unchanged) == (0, 2, 0)
    assert p.rows[0].changes == ["身份证号", "村民小组", "家庭人口"]
    run(village, corrected, confirm_identity=True)
    got = register(village)
    assert got["0001"].id_number == person_id(11)
    assert got["0001"].group.name == "二组" and got["0001"].members == 5
    assert got["0002"].group.name == "三组"
    assert db.session.execute(
        db.select(db.func.count(AuditEntry.id)).filter_by(action="household.update")
    ).scalar_one() == 2


def test_blank_cells_do_not_erase_what_is_on_file(village):
    run(village, xlsx([["户编号", "户主姓名", "联系电话", "户类别"], ["0001", "张三", "13800138000", "党员户"]]))
    result = run(village, xlsx([["户编号", "户主姓名", "联系电话", "户类别"], ["0001", "张三", None, None]]))
    assert result.unchanged == 1
    zhang = register(village)["0001"]
    assert zhang.phone == "13800138000" and zhang.categories == ["党员户"]


def test_id_number_of_another_household_than_the_code_is_a_problem(village):
    run(village, xlsx([["户编号", "户主姓名", "身份证号"], ["0001", "张三", person_id(1)], ["0002", "李四", person_id(2)]]))
    p = plan(village, xlsx([["户编号", "户主姓名", "身份证号"], ["0001", "张三", person_id(2)]]))
    assert p.problems[0].column == "身份证号"
    assert "已登记在户编号 0002（李四）下" in p.problems[0].message


def test_code_typed_into_a_number_cell_still_matches_its_household(village):
    run(village, xlsx([["户编号", "户主姓名", "家庭人口"], ["0012", "张三", 3]]))
    p = plan(village, xlsx([["户编号", "户主姓名", "家庭人口"], [12, "张三", 4]]))
    assert (p.added, p.updated) == (0, 1)
    run(village, xlsx([["户编号", "户主姓名", "家庭人口"], [12, "张三", 4]]))
    assert list(register(village)) == ["0012"]
    assert register(village)["0012"].members == 4


def test_codes_are_generated_when_absent_without_taking_a_code_the_file_uses(village):
    run(village, xlsx([["户编号", "户主姓名"], [None, "张三"], ["0001", "李四"], [None, "王五"]]))
    assert {h.head_name: h.code for h in register(village).values()} == {
        "李四": "0001", "张三": "0002", "王五": "0003",
    }


def test_all_or_nothing_leaves_the_database_untouched_when_one_row_is_bad(village):
    data = xlsx([["户主姓名", "家庭人口"], ["张三", 3], ["李四", 300], ["王五", 2]])
    p = plan(village, data)
    assert p.blocked and p.refused == 1
    assert p.problems[0].line() == "第3行 家庭人口（李四）：家庭人口应在1到99之间，这里是300"
    with pytest.raises(ImportRefused, match="有 1 行有问题，没有导入任何数据"):
        apply_import(None, village, p)
    db.session.rollback()
    assert household_count() == 0
    assert db.session.execute(db.select(AuditEntry).filter_by(action="household.import")).first() is None


def test_skip_invalid_imports_only_the_valid_rows(village):
    data = xlsx([["户主姓名", "家庭人口", "户类别"], ["张三", 3, None], ["李四", 300, None], ["王五", 2, "富裕户"]])
    result = run(village, data, skip_invalid=True)
    assert (result.added, result.refused) == (1, 2)
    assert [h.head_name for h in register(village).values()] == ["张三"]


def test_unknown_category_names_the_village_list(village):
    p = plan(village, xlsx([["户主姓名", "户类别"], ["张三", "党员户，富裕户"]]))
    assert p.problems[0].column == "户类别"
    assert "户类别“富裕户”不在本村的类别列表中" in p.problems[0].message
    assert "党员户" in p.problems[0].message


def test_empty_name_and_bad_phone_and_bad_date_each_say_what_to_fix(village):
    data = xlsx([["户主姓名", "联系电话", "入户日期", "家庭人口"], [None, "12345", "去年", "三"]])
    p = plan(village, data)
    by_column = {x.column: x.message for x in p.problems}
    assert by_column["户主姓名"] == "户主姓名为空，请填写"
    assert "电话号码格式不正确" in by_column["联系电话"]
    assert "2024-03-01" in by_column["入户日期"]
    assert "应为整数" in by_column["家庭人口"]


def test_gbk_and_utf8_csv_import_the_same_households(village):
    rows = [["户主姓名", "身份证号", "村民小组"], ["张三", person_id(1), "一组"], ["李四", person_id(2), "二组"]]
    assert run(village, csv_bytes(rows, "gbk"), "名单.csv").added == 2
    assert run(village, csv_bytes(rows, "utf-8-sig"), "名单.csv").unchanged == 2


def test_the_template_example_row_is_not_imported_by_mistake(village):
    p = plan(village, template_bytes(), "农户导入模板.xlsx")
    assert p.refused == 1
    assert "示例行" in p.problems[0].message
    assert TEMPLATE_ID == make_id(TEMPLATE_ID[:17])


def test_too_large_or_too_long_files_are_refused_before_reading_rows(village):
    data = xlsx([["户主姓名"]] + [[f"户主{i}"] for i in range(20)])
    with pytest.raises(ImportRefused, match="上限"):
        plan(village, data, max_rows=10)
    with pytest.raises(ImportRefused, match="MB"):
        plan(village, data, max_bytes=1000)


def test_import_writes_one_summary_audit_entry_and_one_per_household(ctx, make_village, make_user):
    make_village()
    make_user("clerk1")
    village = villages.get_by_slug("jiangba")
    clerk = db.session.execute(db.select(User).filter_by(username="clerk1")).scalar_one()
    apply_import(clerk, village, plan(village, messy_workbook(), create_groups=True))
    db.session.commit()
    summary = db.session.execute(db.select(AuditEntry).filter_by(action="household.import")).scalar_one()
    assert summary.actor == "clerk1"
    assert summary.summary == "新增 4 户，更新 0 户，未变 0 户，拒绝 0 行"
    assert "名册.xlsx" in summary.target
    created = db.session.execute(db.select(AuditEntry).filter_by(action="household.create")).scalars().all()
    assert len(created) == 4 and {e.actor for e in created} == {"clerk1"}


def test_imported_household_audit_entry_reads_like_one_added_by_hand(village):
    run(village, messy_workbook())
    zhang = register(village)["0001"]
    entry = db.session.execute(
        db.select(AuditEntry).filter_by(action="household.create", target="农户 0001 张三")
    ).scalar_one()
    expected = audit.decode(audit.record(None, "x", after=households.state(zhang)).after)
    db.session.rollback()
    assert audit.decode(entry.after) == expected
    assert "320102" in entry.after and person_id(1) not in entry.after  # ID masked in the log


def test_a_household_imported_without_a_join_date_counts_as_registered_all_along(village):
    run(village, xlsx([["户编号", "户主姓名", "入户日期"], ["0001", "张三", None], ["0002", "李四", "2024-03-02"]]))
    got = register(village)
    assert got["0001"].joined_on is None
    assert got["0002"].joined_on == dt.date(2024, 3, 2)
    entry = db.session.execute(
        db.select(AuditEntry).filter_by(action="household.create", target="农户 0001 张三")
    ).scalar_one()
    assert audit.decode(entry.after)["joined_on"] is None


def test_every_household_entry_an_import_logs_is_linked_to_its_household(village):
    run(village, xlsx([["户编号", "户主姓名", "家庭人口"], ["0001", "张三", 3], ["0002", "李四", 2]]))
    run(village, xlsx([["户编号", "户主姓名", "家庭人口"], ["0001", "张三", 4], ["0003", "王五", 1]]))
    ids = {code: h.id for code, h in register(village).items()}
    logged = db.session.execute(
        db.select(AuditEntry.action, AuditEntry.target, AuditEntry.household_id)
        .where(AuditEntry.action.like("household.%"))
        .order_by(AuditEntry.id)
    ).all()
    assert [(action, household_id) for action, _target, household_id in logged] == [
        ("household.create", ids["0001"]),
        ("household.create", ids["0002"]),
        ("household.import", None),
        ("household.create", ids["0003"]),
        ("household.update", ids["0001"]),
        ("household.import", None),
    ]


def test_large_import_uses_a_handful_of_queries_not_one_per_row(village):
    rows = [["户编号", "户主姓名", "身份证号", "村民小组", "户类别"]]
    rows += [[f"{i:04d}", f"户主{i}", person_id(i), "一组", "一般户"] for i in range(1, 1201)]
    data = xlsx(rows)
    statements = []
    engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        result = run(village, data)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert result.added == 1200
    assert len(statements) < 40
    assert db.session.execute(db.select(db.func.count(Group.id))).scalar_one() == 3


# --- identity changes: never a household silently renamed -------------------------------------


def registered_zhang_and_li(village):
    run(village, xlsx([
        ["户编号", "户主姓名", "身份证号", "村民小组", "联系电话"],
        ["0001", "张三", person_id(1), "一组", "13800138000"],
        ["0002", "李四", person_id(2), "二组", None],
    ]))


# A row without 户号 whose ID number is 李四's (a typo for someone else's) names 王五.
RENAMING = [
    ["户编号", "户主姓名", "身份证号", "村民小组", "联系电话"],
    ["0001", "张三", person_id(1), "一组", "13900139000"],
    [None, "王五", person_id(2), "三组", None],
]


def test_a_row_renaming_an_existing_household_is_held_back_and_refuses_the_import(village):
    registered_zhang_and_li(village)
    p = plan(village, xlsx(RENAMING))
    assert [r.row for r in p.held_back] == [3]
    assert p.blocked
    assert p.problems[0].line() == (
        "第3行 户主姓名（王五）：这一行对应已登记的农户 0002（户主“李四”），户主由“李四”改为“王五”。"
        "这是身份变更，需要逐行确认后才会导入；如果不是同一户，请核对户编号和身份证号"
    )
    with pytest.raises(ImportRefused):
        apply_import(None, village, p)
    db.session.rollback()
    assert register(village)["0002"].head_name == "李四"


def test_skip_invalid_skips_exactly_the_unconfirmed_identity_changes(village):
    registered_zhang_and_li(village)
    result = run(village, xlsx(RENAMING), skip_invalid=True)
    assert (result.updated, result.refused) == (1, 1)
    got = register(village)
    assert got["0001"].phone == "13900139000"
    assert (got["0002"].head_name, got["0002"].group.name) == ("李四", "二组")


def test_a_confirmed_identity_change_is_applied(village):
    registered_zhang_and_li(village)
    rows = RENAMING + [["0001", "张三丰", None, None, None]]
    first = plan(village, xlsx(rows[:3]))
    key = first.held_back[0].identity_key
    p = plan(village, xlsx(rows[:3]), confirm_identity={key})
    assert p.problems == [] and [r.row for r in p.identity_rows] == [3]
    apply_import(None, village, p)
    db.session.commit()
    assert register(village)["0002"].head_name == "王五"


def test_a_confirmation_is_for_the_change_seen_so_a_register_edited_since_needs_a_fresh_tick(village):
    registered_zhang_and_li(village)
    key = plan(village, xlsx(RENAMING)).held_back[0].identity_key
    li = register(village)["0002"]
    households.update_household(None, li, households.HouseholdFields(
        head_name="李四海", code="0002", id_number=li.id_number, group=li.group, members=li.members,
    ))
    db.session.commit()
    p = plan(village, xlsx(RENAMING), confirm_identity={key})
    assert [r.old_head_name for r in p.held_back] == ["李四海"]


def test_replacing_an_id_number_is_an_identity_change_but_filling_a_missing_one_is_not(village):
    run(village, xlsx([["户编号", "户主姓名", "身份证号"], ["0001", "张三", person_id(1)], ["0002", "李四", None]]))
    p = plan(village, xlsx([["户编号", "户主姓名", "身份证号"], ["0001", "张三", person_id(11)], ["0002", "李四", person_id(2)]]))
    assert [r.row for r in p.held_back] == [2]
    assert "身份证号由 320102********" in p.problems[0].message
    assert [r.code for r in p.rows] == ["0002"] and not p.rows[0].identity


def test_every_change_of_an_update_is_listed_old_and_new(village):
    registered_zhang_and_li(village)
    p = plan(village, xlsx([["户编号", "户主姓名", "联系电话", "村民小组"], ["0001", "张三", "13900139000", "三组"]]))
    assert [(c.label, c.old, c.new) for c in p.rows[0].diffs] == [
        ("联系电话", "13800138000", "13900139000"), ("村民小组", "一组", "三组"),
    ]


def test_columns_not_imported_are_listed(village):
    p = plan(village, xlsx([["户名", "门牌号", "人口类型", "家庭人口数", "民族"], ["张三", "1号", "户籍人口", 4, "汉"]]))
    assert p.unused == ["人口类型", "民族"]
    assert (p.rows[0].head_name, p.rows[0].address, p.rows[0].members) == ("张三", "1号", 4)


def test_apply_refuses_a_plan_carrying_an_unconfirmed_identity_change(village):
    registered_zhang_and_li(village)
    p = plan(village, xlsx(RENAMING), confirm_identity=True)
    p.identity_rows = []  # a plan tampered with after planning
    with pytest.raises(ImportRefused, match="身份变更没有逐行确认"):
        apply_import(None, village, p)
    db.session.rollback()
    assert register(village)["0002"].head_name == "李四"


def test_bulk_audit_rows_store_the_same_text_as_a_row_recorded_alone():
    state = {
        "head_name": "张三", "joined_on": dt.date(2024, 3, 1), "categories": ["党员户", "脱贫户"],
        "deactivated_on": None, "members": 4, "code": "0001",
    }
    at = dt.datetime(2026, 11, 18, 9, 30)
    alone = audit.row(None, "household.create", village_id=7, household_id=3, target="农户 0001 张三", after=state, at=at)
    bulk = audit.RowBuilder(None, "household.create", village_id=7, at=at)(3, "农户 0001 张三", state)
    assert bulk == alone
