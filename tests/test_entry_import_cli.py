"""`flask --app villagepoints import-entries`: problems per line, dry run, --approve."""
from __future__ import annotations

import datetime as dt

import pytest

from villagepoints.extensions import db
from villagepoints.models import AuditEntry, Entry

from import_workbooks import workbook, xlsx

HEADERS = ["户编号", "户主姓名", "村民小组", "细则编号", "分值", "日期", "说明"]


@pytest.fixture
def village(make_village, make_household):
    """蒋坝村 with 0001 张三 (一组) and 0002 李四 (二组), registered long ago."""
    make_village()
    make_household(head_name="张三", group="一组", code="0001", joined_on=dt.date(2020, 1, 1))
    make_household(head_name="李四", group="二组", code="0002", joined_on=dt.date(2020, 1, 1))
    return "jiangba"


@pytest.fixture
def write(tmp_path):
    """Save bytes as a file the command can read; returns its path as text."""

    def save(data: bytes, name: str = "积分.xlsx") -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return save


def recorded(app) -> list[tuple]:
    with app.app_context():
        return [
            (e.household.code, e.rule_code, e.points, e.status, e.reviewed_by_name, e.source)
            for e in db.session.execute(db.select(Entry).order_by(Entry.id)).scalars()
        ]


def good_rows() -> list[list]:
    today = dt.date.today()
    return [HEADERS, ["0001", None, None, "P01", None, today, "村民会议"], [None, "李四", "二组", "P03", 3, today, ""]]


def test_import_exits_zero_and_leaves_entries_waiting_for_review(app, runner, village, write):
    result = runner.invoke(args=["import-entries", write(xlsx(good_rows())), "--village", village])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "导入 2 条积分记录（涉及 2 户）：待审核 2 条"
    assert recorded(app) == [
        ("0001", "P01", 2, "pending", "", "import"),
        ("0002", "P03", 3, "pending", "", "import"),
    ]


def test_approve_records_them_approved_by_the_command_line_in_the_audit_log(app, runner, village, write):
    result = runner.invoke(args=["import-entries", write(xlsx(good_rows())), "--village", village, "--approve"])
    assert result.exit_code == 0, result.output
    assert "已通过 2 条" in result.output
    assert [(r[3], r[4]) for r in recorded(app)] == [("approved", "命令行"), ("approved", "命令行")]
    with app.app_context():
        log = db.session.execute(db.select(AuditEntry).filter_by(action="entry.import")).scalar_one()
        assert log.actor == "命令行" and "--approve" in log.summary
        created = db.session.execute(db.select(AuditEntry).filter_by(action="entry.create")).scalars().all()
        assert len(created) == 2 and all('"approved"' in e.after for e in created)


def test_dry_run_checks_everything_and_writes_nothing(app, runner, village, write):
    result = runner.invoke(args=["import-entries", write(xlsx(good_rows())), "--village", village, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "试运行（未写入）：可导入 2 条（涉及 2 户），拒绝 0 行"
    assert recorded(app) == []
    with app.app_context():
        assert db.session.execute(db.select(AuditEntry).filter_by(action="entry.import")).first() is None


def test_problems_are_printed_one_per_line_and_nothing_is_imported(app, runner, village, write):
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    rows = good_rows() + [
        ["0009", None, None, "P01", None, dt.date.today(), ""],
        ["0001", None, None, "P01", None, tomorrow, ""],
    ]
    result = runner.invoke(args=["import-entries", write(xlsx(rows)), "--village", village])
    assert result.exit_code != 0
    lines = result.output.splitlines()
    assert lines[0] == "第4行 户编号：本村没有户编号为“0009”的农户"
    assert lines[1].startswith(f"第5行 日期：日期 {tomorrow} 在今天之后")
    assert "农户 0001 张三" in lines[1] and "细则 P01" in lines[1]
    assert "检查结果（未写入）：可导入 2 条（涉及 2 户），拒绝 2 行" in result.output
    assert "没有导入任何数据" in result.output
    assert recorded(app) == []


def test_dry_run_with_problems_also_exits_non_zero(app, runner, village, write):
    rows = [HEADERS, ["0001", None, None, "M03", None, dt.date.today(), None]]
    result = runner.invoke(args=["import-entries", write(xlsx(rows)), "--village", village, "--dry-run"])
    assert result.exit_code != 0
    assert result.output.startswith("第2行 说明：细则 M03“家庭卫生差、乱堆乱放”需要依据")


def test_problems_on_several_sheets_name_the_sheet(app, runner, village, write):
    data = workbook({
        "一组": ([HEADERS, ["0001", None, None, "P01", None, dt.date.today(), ""]], []),
        "二组": ([HEADERS, ["0002", None, None, "X01", None, dt.date.today(), ""]], []),
    })
    result = runner.invoke(args=["import-entries", write(data), "--village", village])
    assert result.exit_code != 0
    assert result.output.splitlines()[0].startswith("【二组】第2行 细则编号：本村没有编号或名称为“X01”的积分细则")


def test_unknown_village_and_unreadable_file_are_refused_with_a_message(app, runner, village, write):
    result = runner.invoke(args=["import-entries", write(xlsx(good_rows())), "--village", "nowhere"])
    assert result.exit_code != 0 and "找不到村代码为“nowhere”的村" in result.output
    result = runner.invoke(args=["import-entries", write(b"not a workbook"), "--village", village])
    assert result.exit_code != 0 and "无法读取这个 .xlsx 文件" in result.output


def test_a_file_with_only_a_header_imports_nothing(app, runner, village, write):
    result = runner.invoke(args=["import-entries", write(xlsx([HEADERS])), "--village", village])
    assert result.exit_code != 0
    assert "文件里没有积分记录" in result.output
    assert recorded(app) == []
