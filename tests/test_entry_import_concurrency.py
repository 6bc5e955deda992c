"""Two clerks confirming entry imports at the same moment, each in its own connection, on SQLite or
PostgreSQL (VP_TEST_DATABASE_URL): every entry is written once with its own audit row."""
from __future__ import annotations

import datetime as dt
import re

from concurrency import together
from villagepoints import villages
from villagepoints.entry_import import apply_entry_import, plan_entry_import
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields, create_household
from villagepoints.models import AuditEntry, Entry, Household

from import_workbooks import xlsx

TODAY = dt.date(2026, 8, 15)
DAY = dt.date(2026, 8, 1)


def test_two_entry_imports_confirmed_at_once_each_log_their_own_entries(app, make_village):
    make_village()
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        for code, name in (("0001", "张三"), ("0002", "李四")):
            create_household(None, village, HouseholdFields(head_name=name, code=code, joined_on=dt.date(2020, 1, 1)))
        db.session.commit()
    sheets = {
        "0001": xlsx([["户编号", "细则编号", "日期", "说明"]] + [["0001", "P04", DAY, f"张三第{i}次"] for i in range(40)]),
        "0002": xlsx([["户编号", "加扣分事项", "时间", "说明"]] + [["0002", "调解邻里矛盾、维护和谐", DAY, f"李四第{i}次"] for i in range(40)]),
    }
    def run(code: str, gate):
        with app.app_context():
            try:
                village = villages.get_by_slug("jiangba")
                plan = plan_entry_import(village, sheets[code], f"{code}.xlsx", today=TODAY)
                assert plan.problems == []
                db.session.rollback()
                gate()
                apply_entry_import(None, village, plan)
                db.session.commit()
            except BaseException as exc:  # reported below, from the main thread
                db.session.rollback()
                return exc
            return None

    errors = [e for e in together(list(sheets), run, what="an import") if e is not None]
    assert errors == []
    with app.app_context():
        entries = {e.id: e for e in db.session.execute(db.select(Entry)).scalars()}
        codes = dict(db.session.execute(db.select(Household.id, Household.code)).all())
        assert sorted(codes[e.household_id] for e in entries.values()) == ["0001"] * 40 + ["0002"] * 40
        logged = db.session.execute(db.select(AuditEntry).filter_by(action="entry.create")).scalars().all()
        assert len(logged) == 80
        for row in logged:
            entry_id, code = re.match(r"积分记录 #(\d+) (\d{4}) ", row.target).groups()
            entry = entries[int(entry_id)]
            assert codes[entry.household_id] == code and row.household_id == entry.household_id
            assert entry.note in row.after
        assert len({row.target for row in logged}) == 80
