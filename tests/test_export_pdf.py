"""The notice and the lists as they print: turned into PDF by LibreOffice, read with pdftotext.

Needs LibreOffice (Debian's libreoffice-calc-nogui), poppler-utils and a CJK font
(fonts-noto-cjk); scripts/test.sh installs them. Without them these tests are skipped
with the reason, except under CI=true, where they fail.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from export_village import FORMULA_NAME, PUBLISH_DAY, Q3, RANKED, commit, export_bytes, fill

from villagepoints import publication, villages
from villagepoints.households import HouseholdFields, create_household

TOOLS = ("soffice", "pdftotext", "pdfinfo")
CONVERT_TIMEOUT_S = 180


def _has_cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    return bool(found.strip())


def _require_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if not _has_cjk_font():
        missing.append("中文字体")
    if not missing:
        return
    reason = (f"没有 {'、'.join(missing)}：请运行 bash scripts/test.sh，"
              "或 apt-get install libreoffice-calc-nogui poppler-utils fonts-noto-cjk")
    if os.environ.get("CI") == "true":
        pytest.fail("CI 中 PDF 打印测试不能跳过 — " + reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def office_profile(tmp_path_factory) -> Path:
    """One LibreOffice user profile for the run, apart from any real user's."""
    _require_tools()
    return tmp_path_factory.mktemp("lo-profile")


@pytest.fixture
def to_pdf(office_profile, tmp_path):
    """Turn .xlsx bytes into a PDF with LibreOffice headless; return the PDF's path."""

    def convert(data: bytes, stem: str = "export") -> Path:
        source = tmp_path / f"{stem}.xlsx"
        source.write_bytes(data)
        outdir = tmp_path / "pdf"
        result = subprocess.run(
            ["soffice", f"-env:UserInstallation={office_profile.as_uri()}", "--headless", "--norestore",
             "--convert-to", "pdf", "--outdir", str(outdir), str(source)],
            capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S,
        )
        pdf = outdir / f"{stem}.pdf"
        assert pdf.exists(), f"LibreOffice 没有生成 PDF：{result.stdout}\n{result.stderr}"
        return pdf

    return convert


def pages(pdf: Path) -> list[str]:
    """Return the text of each page, laid out as printed."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    found = text.split("\f")
    # pdftotext ends the last page with a form feed too.
    if found and not found[-1].strip():
        found = found[:-1]
    assert len(found) == count
    return found


def paper(pdf: Path) -> str:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return re.search(r"^Page size:\s+(.*)$", info, re.M).group(1)


def squash(text: str) -> str:
    """Drop the spaces pdftotext puts between characters as it finds them on the page."""
    return re.sub(r"\s+", "", text)


def in_order(text: str, names: list[str]) -> bool:
    flat = squash(text)
    positions = [flat.find(squash(n)) for n in names]
    return all(p >= 0 for p in positions) and positions == sorted(positions)


@pytest.fixture
def village(app, make_village, ctx):
    make_village()
    v = villages.get_by_slug("jiangba")
    fill(v)
    commit()
    return v


# The formula-like name prints as typed; only its start is checked, as the column may wrap it.
PRINTED = [n if n != FORMULA_NAME else "=HYPERLINK(" for n in RANKED]


def test_published_notice_prints_on_one_a4_page_with_names_in_rank_order(village, to_pdf):
    publication.publish(None, village, Q3, today=PUBLISH_DAY)
    pdf = to_pdf(export_bytes(village, "notice", quarter=Q3)[0])
    [page] = pages(pdf)
    assert "(A4)" in paper(pdf)
    assert "蒋坝村2026年第三季度农户积分公示" in page and "第1版" in page
    assert in_order(page, PRINTED)
    assert "积分管理小组（盖章）" in squash(page) and "第1页共1页" in squash(page)


def test_long_notice_repeats_title_and_header_on_every_page(village, to_pdf):
    group = villages.find_group(village, "三组")
    for n in range(150):
        create_household(None, village, HouseholdFields(head_name=f"测试户{n:03d}", group=group,
                                                        joined_on=dt.date(2020, 1, 1)))
    commit()
    printed = pages(to_pdf(export_bytes(village, "notice", quarter=Q3)[0]))
    assert len(printed) >= 2
    for number, page in enumerate(printed, start=1):
        assert "蒋坝村2026年第三季度农户积分公示（草稿）" in page
        assert re.search(r"序号\s+村民小组\s+户编号\s+户主姓名", page)
        assert f"第{number}页共{len(printed)}页" in squash(page)
    everything = "".join(printed)
    assert in_order(everything, PRINTED[:5] + ["测试户000", "测试户149", "李四"])


def test_notice_by_group_prints_each_group_on_its_own_pages(village, to_pdf):
    printed = pages(to_pdf(export_bytes(village, "notice", quarter=Q3, by_group=True)[0]))
    assert len(printed) == 3
    for page, group, names in zip(printed, ["一组", "二组", "三组"],
                                  [["张三", "=HYPERLINK(", "王五"], ["赵六", "李四"], ["钱七"]]):
        assert f"农户积分公示（{group}）（草稿）" in page
        assert in_order(page, names)


def test_lists_print_the_red_and_the_black_list_each_on_its_own_page(village, to_pdf):
    publication.publish(None, village, Q3, today=PUBLISH_DAY)
    pdf = to_pdf(export_bytes(village, "lists", quarter=Q3)[0])
    red, black = pages(pdf)
    assert "蒋坝村2026年第三季度光荣榜·臊皮榜" in red and "光荣榜" in red and "李" not in red
    assert in_order(red, ["张三", "赵六", "=HYPERLINK("])
    assert "季度积分排名第1" in red
    assert "臊皮榜" in black and "李*" in black and "李四" not in black
    assert "积分低于基础分" in black
