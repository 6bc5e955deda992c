"""`flask --app villagepoints import-households` and `import-template`."""
from __future__ import annotations

import io

import openpyxl
import pytest

from villagepoints import villages
from villagepoints.extensions import db
from villagepoints.models import AuditEntry, Household

from import_workbooks import person_id, workbook, xlsx

GOOD = [
    ["户编号", "户主姓名", "身份证号", "村民小组", "家庭人口"],
    ["0001", "张三", person_id(1), "一组", 4],
    ["0002", "李四", person_id(2), "二组", 3],
]


@pytest.fixture
def write(tmp_path):
    """Save bytes as a file the command can read; returns its path as text."""

    def save(data: bytes, name: str = "名册.xlsx") -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return save


def count(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Household.id))).scalar_one()


def test_successful_import_exits_zero_and_prints_the_summary(app, runner, make_village, write):
    make_village()
    result = runner.invoke(args=["import-households", write(xlsx(GOOD)), "--village", "jiangba"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "新增 2 户，更新 0 户，未变 0 户，拒绝 0 行"
    assert count(app) == 2


def test_problems_are_printed_one_per_line_and_stop_the_import(app, runner, make_village, write):
    make_village()
    rows = GOOD + [["0003", "王五", 320102198500000010, "一组", 2], ["0004", None, None, "一组", 2]]
    result = runner.invoke(args=["import-households", write(xlsx(rows)), "--village", "jiangba"])
    assert result.exit_code != 0
    lines = result.output.splitlines()
    assert lines[0].startswith("第4行 身份证号（王五）：身份证号被存成了数字")
    assert lines[1] == "第5行 户主姓名：户主姓名为空，请填写"
    assert "检查结果（未写入）：新增 2 户，更新 0 户，未变 0 户，拒绝 2 行" in result.output
    assert "没有导入任何数据" in result.output
    assert count(app) == 0


def test_skip_invalid_imports_the_valid_rows_and_counts_the_refused(app, runner, make_village, write):
    make_village()
    rows = GOOD + [["0003", "王五", "12345", "一组", 2]]
    result = runner.invoke(args=["import-households", write(xlsx(rows)), "--village", "jiangba", "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert "第4行 身份证号（王五）：***** 应为18位，这里是5位" in result.output
    assert result.output.strip().splitlines()[-1] == "新增 2 户，更新 0 户，未变 0 户，拒绝 1 行"
    assert count(app) == 2


def test_dry_run_writes_nothing(app, runner, make_village, write):
    make_village()
    result = runner.invoke(args=["import-households", write(xlsx(GOOD)), "--village", "jiangba", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "试运行（未写入）：新增 2 户，更新 0 户，未变 0 户，拒绝 0 行" in result.output
    assert count(app) == 0
    with app.app_context():
        assert db.session.execute(db.select(AuditEntry).filter_by(action="household.import")).first() is None


def test_importing_the_same_file_twice_changes_nothing(app, runner, make_village, write):
    make_village()
    path = write(xlsx(GOOD))
    runner.invoke(args=["import-households", path, "--village", "jiangba"])
    result = runner.invoke(args=["import-households", path, "--village", "jiangba"])
    assert result.exit_code == 0
    assert result.output.strip().splitlines()[-1] == "新增 0 户，更新 0 户，未变 2 户，拒绝 0 行"


def test_missing_groups_are_named_and_created_on_request(app, runner, make_village, write):
    make_village()
    path = write(xlsx([["户主姓名", "村民小组"], ["张三", "五组"]]))
    refused = runner.invoke(args=["import-households", path, "--village", "jiangba"])
    assert refused.exit_code != 0
    assert "本村还没有这些小组：五组。加上 --create-groups 可自动新建" in refused.output
    created = runner.invoke(args=["import-households", path, "--village", "jiangba", "--create-groups"])
    assert created.exit_code == 0, created.output
    assert "已新建小组：五组" in created.output
    with app.app_context():
        assert villages.find_group(villages.get_by_slug("jiangba"), "五组") is not None


def test_problem_lines_name_the_sheet_when_the_workbook_has_several(app, runner, make_village, write):
    make_village()
    data = workbook({
        "一组": ([["户主姓名", "家庭人口"], ["张三", 3]], []),
        "二组": ([["户主姓名", "家庭人口"], ["李四", 0]], []),
    })
    result = runner.invoke(args=["import-households", write(data), "--village", "jiangba"])
    assert result.exit_code != 0
    assert result.output.splitlines()[0] == "【二组】第2行 家庭人口（李四）：家庭人口应在1到99之间，这里是0"


def test_unreadable_or_too_large_files_exit_non_zero_with_a_message(app, runner, make_village, write):
    make_village()
    result = runner.invoke(args=["import-households", write(b"a,b\n", "x.txt"), "--village", "jiangba"])
    assert result.exit_code != 0
    assert "只能导入 .xlsx、.xls、.ods 或 .csv 文件" in result.output
    app.config["IMPORT_MAX_BYTES"] = 1000
    result = runner.invoke(args=["import-households", write(xlsx(GOOD)), "--village", "jiangba"])
    assert result.exit_code != 0
    assert "上限" in result.output


def test_unknown_village_is_refused(runner, write):
    result = runner.invoke(args=["import-households", write(xlsx(GOOD)), "--village", "nowhere"])
    assert result.exit_code != 0
    assert "找不到村代码为“nowhere”的村" in result.output


def test_template_command_writes_headers_and_an_example_row(runner, tmp_path):
    out = tmp_path / "模板.xlsx"
    result = runner.invoke(args=["import-template", "--out", str(out)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(io.BytesIO(out.read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("户编号", "户主姓名", "身份证号", "村民小组")
    assert rows[1][1] == "张三" and len(rows) == 2


RENAMED = [
    ["户编号", "户主姓名", "身份证号", "村民小组", "家庭人口"],
    [None, "王五", person_id(2), "二组", 3],
    ["0001", "张三", person_id(1), "一组", 5],
]


def head_names(app) -> dict[str, str]:
    with app.app_context():
        return dict(db.session.execute(db.select(Household.code, Household.head_name)).all())


def test_an_identity_change_stops_the_import_until_confirmed_on_the_command_line(app, runner, make_village, write):
    make_village()
    runner.invoke(args=["import-households", write(xlsx(GOOD)), "--village", "jiangba"])
    path = write(xlsx(RENAMED), "改名.xlsx")
    refused = runner.invoke(args=["import-households", path, "--village", "jiangba"])
    assert refused.exit_code != 0
    assert "第2行 户主姓名（王五）：这一行对应已登记的农户 0002（户主“李四”），户主由“李四”改为“王五”" in refused.output
    assert "--confirm-identity-changes" in refused.output
    assert head_names(app)["0002"] == "李四"

    confirmed = runner.invoke(args=["import-households", path, "--village", "jiangba", "--confirm-identity-changes"])
    assert confirmed.exit_code == 0, confirmed.output
    assert "已确认身份变更：第2行 户编号 0002：户主姓名 李四→王五" in confirmed.output
    assert head_names(app)["0002"] == "王五"


def test_skip_invalid_skips_the_identity_changes_and_names_both_names(app, runner, make_village, write):
    make_village()
    runner.invoke(args=["import-households", write(xlsx(GOOD)), "--village", "jiangba"])
    result = runner.invoke(args=["import-households", write(xlsx(RENAMED), "改名.xlsx"), "--village", "jiangba", "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert "跳过 1 行身份变更（未确认）：第2行 “李四”→“王五”" in result.output
    assert "更新 1 户" in result.output
    assert head_names(app) == {"0001": "张三", "0002": "李四"}


def test_dry_run_lists_each_update_old_and_new_and_unused_columns(app, runner, make_village, write):
    make_village()
    runner.invoke(args=["import-households", write(xlsx(GOOD)), "--village", "jiangba"])
    rows = [["户编号", "户主姓名", "家庭人口", "民族"], ["0001", "张三", 6, "汉"]]
    result = runner.invoke(args=["import-households", write(xlsx(rows), "改.xlsx"), "--village", "jiangba", "--dry-run"])
    assert "这些列没有导入：民族" in result.output
    assert "将更新 第2行 户编号 0001：家庭人口 4→6" in result.output
