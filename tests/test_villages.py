import datetime as dt

import pytest

from villagepoints import audit, households, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields
from villagepoints.models import AuditEntry, Group


def _entries(action):
    return list(db.session.execute(db.select(AuditEntry).filter_by(action=action)).scalars())


def test_split_names_accepts_chinese_and_ascii_commas_and_drops_repeats():
    assert villages.split_names("一组,二组，三组、 四组,一组") == ["一组", "二组", "三组", "四组"]
    assert villages.split_names("") == []


def test_new_village_has_default_settings_and_groups_in_order(ctx):
    village = villages.create_village(None, "蒋坝村", "JiangBa", ["一组", "二组"])
    assert village.slug == "jiangba"
    assert (village.base_score, village.require_review, village.red_list_size) == (100, True, 3)
    assert "党员户" in village.categories
    assert [g.name for g in village.groups] == ["一组", "二组"]
    assert _entries("village.create")[0].actor == audit.CLI_ACTOR


@pytest.mark.parametrize(
    "name, slug, groups, words",
    [
        ("", "jiangba", [], "村名不能为空"),
        ("蒋坝村", "蒋坝", [], "村代码只能用"),
        ("蒋坝村", "jiangba", ["一组", "一组"], "重复"),
        ("蒋坝村", "jiangba", ["组" * 51], "超过50个字"),
    ],
)
def test_bad_new_villages_are_refused_with_the_reason(ctx, name, slug, groups, words):
    with pytest.raises(villages.VillageError, match=words):
        villages.create_village(None, name, slug, groups)


def test_a_slug_can_be_used_only_once(ctx):
    villages.create_village(None, "蒋坝村", "jiangba")
    with pytest.raises(villages.VillageError, match="已被使用"):
        villages.create_village(None, "另一个村", "jiangba")


def test_settings_change_is_audited_with_only_the_changed_fields(ctx):
    village = villages.create_village(None, "蒋坝村", "jiangba")
    villages.update_village(
        None, village, name="蒋坝村", base_score=80, require_review=False, red_list_size=3,
        categories=village.categories,
    )
    (entry,) = _entries("village.update")
    assert audit.decode(entry.before) == {"base_score": 100, "require_review": True}
    assert audit.decode(entry.after) == {"base_score": 80, "require_review": False}


def test_saving_unchanged_settings_writes_no_audit_entry(ctx):
    village = villages.create_village(None, "蒋坝村", "jiangba")
    villages.update_village(None, village, name="蒋坝村", base_score=100, require_review=True,
                            red_list_size=3, categories=village.categories)
    assert _entries("village.update") == []


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"base_score": -1}, "基础分"),
        ({"red_list_size": 0}, "红榜名额"),
        ({"categories": []}, "至少要有一个"),
        ({"name": " "}, "村名不能为空"),
    ],
)
def test_bad_settings_are_refused(ctx, changes, words):
    village = villages.create_village(None, "蒋坝村", "jiangba")
    settings = dict(name="蒋坝村", base_score=100, require_review=True, red_list_size=3,
                    categories=village.categories)
    settings.update(changes)
    with pytest.raises(villages.VillageError, match=words):
        villages.update_village(None, village, **settings)


def test_a_category_still_in_use_cannot_be_dropped(ctx):
    village = villages.create_village(None, "蒋坝村", "jiangba")
    households.create_household(None, village, HouseholdFields(head_name="张三", categories=["低保户"]))
    kept = [c for c in village.categories if c != "低保户"]
    with pytest.raises(villages.VillageError, match="低保户.*1户"):
        villages.update_village(None, village, name="蒋坝村", base_score=100, require_review=True,
                                red_list_size=3, categories=kept)
    unused = [c for c in village.categories if c != "五保户"]
    villages.update_village(None, village, name="蒋坝村", base_score=100, require_review=True,
                            red_list_size=3, categories=unused)
    assert "五保户" not in village.categories


def test_groups_are_added_at_the_end_and_renamed_with_their_households(ctx):
    village = villages.create_village(None, "蒋坝村", "jiangba", ["一组"])
    second = villages.add_group(None, village, "二组")
    h = households.create_household(None, village, HouseholdFields(head_name="张三", group=second))
    villages.rename_group(None, second, "河东组")
    assert [g.name for g in village.groups] == ["一组", "河东组"]
    assert h.group.name == "河东组"
    (entry,) = _entries("group.update")
    assert audit.decode(entry.before) == {"name": "二组"}


def test_group_names_are_unique_within_a_village(ctx):
    village = villages.create_village(None, "蒋坝村", "jiangba", ["一组", "二组"])
    with pytest.raises(villages.VillageError, match="已存在"):
        villages.add_group(None, village, "一组")
    with pytest.raises(villages.VillageError, match="已存在"):
        villages.rename_group(None, villages.find_group(village, "二组"), "一组")
    other = villages.create_village(None, "新村", "xincun")
    villages.add_group(None, other, "一组")


def test_moving_a_group_changes_the_village_order_and_is_audited(ctx):
    village = villages.create_village(None, "蒋坝村", "jiangba", ["一组", "二组", "三组"])
    third = villages.find_group(village, "三组")
    assert villages.move_group(None, third, -1)
    assert [g.name for g in village.groups] == ["一组", "三组", "二组"]
    assert not villages.move_group(None, villages.find_group(village, "一组"), -1)
    (entry,) = _entries("group.move")
    assert audit.decode(entry.after) == {"groups": ["一组", "三组", "二组"]}


def test_moving_works_even_when_groups_share_a_sort_order(ctx):
    village = villages.create_village(None, "蒋坝村", "jiangba")
    for name in ("甲", "乙"):
        db.session.add(Group(village_id=village.id, name=name, sort_order=0))
    db.session.flush()
    villages.move_group(None, villages.find_group(village, "乙"), -1)
    db.session.expire(village, ["groups"])
    assert [g.name for g in village.groups] == ["乙", "甲"]


def test_overview_counts_groups_and_active_households_per_village(ctx):
    jiangba = villages.create_village(None, "蒋坝村", "jiangba", ["一组", "二组"])
    villages.create_village(None, "新村", "xincun")
    for name in ("张三", "李四", "王五"):
        households.create_household(None, jiangba, HouseholdFields(head_name=name))
    gone = households.create_household(None, jiangba, HouseholdFields(head_name="赵六"))
    households.deactivate_household(None, gone, dt.date.today(), "moved")
    rows = {v.slug: (g, n) for v, g, n in villages.village_overview()}
    assert rows == {"jiangba": (2, 3), "xincun": (0, 0)}


def test_group_counts_include_households_without_a_group(ctx):
    village = villages.create_village(None, "蒋坝村", "jiangba", ["一组"])
    first = villages.find_group(village, "一组")
    households.create_household(None, village, HouseholdFields(head_name="张三", group=first))
    households.create_household(None, village, HouseholdFields(head_name="李四"))
    assert villages.group_household_counts(village) == {first.id: 1, None: 1}


def test_add_village_command_creates_the_village_with_its_groups(app, runner):
    result = runner.invoke(args=["add-village", "蒋坝村", "--slug", "jiangba", "--groups", "一组,二组，三组"])
    assert result.exit_code == 0, result.output
    assert "3 个小组" in result.output
    again = runner.invoke(args=["add-village", "另一个村", "--slug", "jiangba"])
    assert again.exit_code != 0 and "已被使用" in again.output
    with app.app_context():
        assert [g.name for g in villages.get_by_slug("jiangba").groups] == ["一组", "二组", "三组"]
