"""Imports pause Python's cycle collector while they work, and always start it again."""
from __future__ import annotations

import datetime as dt
import gc
import io

import pytest
from sqlalchemy import event

from villagepoints import collector, villages
from villagepoints.entry_import import apply_entry_import, plan_entry_import
from villagepoints.extensions import db
from villagepoints.household_import import ImportRefused, apply_import, plan_import
from villagepoints.households import HouseholdFields, create_household

from import_workbooks import xlsx

TODAY = dt.date(2026, 11, 30)


class _Recording(io.BytesIO):
    """A sheet upload that notes whether the collector ran while the import read it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.collector_on: list[bool] = []

    def read(self, *args) -> bytes:
        self.collector_on.append(gc.isenabled())
        return super().read(*args)


@pytest.fixture
def village(ctx, make_village):
    make_village()
    village = villages.get_by_slug("jiangba")
    create_household(None, village, HouseholdFields(
        head_name="张三", code="0001", group=villages.find_group(village, "一组"), joined_on=dt.date(2020, 1, 1),
    ))
    db.session.commit()
    return village


@pytest.fixture
def statements_saw():
    """What gc.isenabled() said at each SQL statement the test runs."""
    seen: list[bool] = []

    def note(*_args) -> None:
        seen.append(gc.isenabled())

    event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine, "before_cursor_execute", note)


def test_a_household_import_reads_and_writes_with_the_collector_paused(village, statements_saw):
    upload = _Recording(xlsx([["户主姓名", "村民小组"], ["李四", "二组"], ["王五", "一组"]]))
    plan = plan_import(village, upload, "名册.xlsx")
    assert upload.collector_on == [False]
    statements_saw.clear()
    assert apply_import(None, village, plan).added == 2
    assert statements_saw and not any(statements_saw)
    assert gc.isenabled()


def test_a_points_import_reads_and_writes_with_the_collector_paused(village, statements_saw):
    upload = _Recording(xlsx([["户编号", "细则编号", "分值", "日期"], ["0001", "P01", 2, dt.date(2026, 11, 2)]]))
    plan = plan_entry_import(village, upload, "积分.xlsx", today=TODAY)
    assert upload.collector_on == [False] and not plan.problems
    statements_saw.clear()
    assert apply_entry_import(None, village, plan).created == 1
    assert statements_saw and not any(statements_saw)
    assert gc.isenabled()


def test_a_refused_file_leaves_the_collector_running(village):
    with pytest.raises(ImportRefused, match="只能导入"):
        plan_import(village, b"not a sheet", "名册.pdf")
    assert gc.isenabled()
    with pytest.raises(ImportRefused):
        plan_entry_import(village, xlsx([["户编号", "备注"], ["0001", "x"]]), "积分.xlsx", today=TODAY)
    assert gc.isenabled()


def test_a_pause_inside_a_pause_leaves_the_collector_to_the_outer_one():
    with collector.paused():
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off():
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
