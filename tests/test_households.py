"""The household register's domain rules, called directly."""
import datetime as dt

import pytest

from villagepoints import households, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdError, HouseholdFields
from villagepoints.models import AuditEntry, Household
from villagepoints.personal_data import id_check_char


def valid_id(first17: str = "11010119800101123") -> str:
    """Return an ID number with a correct check character."""
    return first17 + id_check_char(first17)


@pytest.fixture
def village(ctx, make_village):
    # Both villages exist before the test's session opens its (write-locking) transaction.
    make_village()
    make_village("新村", "xincun", groups=("东组",))
    return villages.get_by_slug("jiangba")


@pytest.fixture
def other_village(village):
    return villages.get_by_slug("xincun")


def add(village, head_name="张三", **fields):
    return households.create_household(None, village, HouseholdFields(head_name=head_name, **fields))


def audit_entries(action):
    return list(db.session.execute(db.select(AuditEntry).filter_by(action=action)).scalars())


def test_codes_are_generated_in_sequence_after_the_highest_number(village):
    assert add(village).code == "0001"
    assert add(village, "李四", code="0041").code == "0041"
    assert add(village, "王五").code == "0042"


def test_a_code_is_unique_within_a_village_only(village, other_village):
    add(village, code="0007")
    with pytest.raises(HouseholdError, match="0007") as exc:
        add(village, "李四", code="0007")
    assert exc.value.field == "code"
    assert add(other_village, "李四", code="0007").code == "0007"


def test_an_id_number_is_registered_once_per_village(village, other_village):
    number = valid_id()
    add(village, id_number=number)
    with pytest.raises(HouseholdError, match="已登记在户编号 0001") as exc:
        add(village, "李四", id_number=number)
    assert exc.value.field == "id_number"
    add(other_village, "李四", id_number=number)


def test_editing_a_household_may_keep_its_own_code_and_id_number(village):
    number = valid_id()
    household = add(village, id_number=number)
    changed = households.update_household(
        None, household, HouseholdFields(head_name="张三丰", code=household.code, id_number=number)
    )
    assert changed and household.head_name == "张三丰" and household.name_initials == "zsf"


def test_categories_outside_the_village_list_are_refused(village):
    with pytest.raises(HouseholdError, match="贵宾户") as exc:
        add(village, categories=["党员户", "贵宾户"])
    assert exc.value.field == "categories"
    assert db.session.execute(db.select(Household)).first() is None


def test_categories_come_back_in_the_village_order(village):
    household = add(village, categories=["五保户", "党员户"])
    assert household.categories == ["党员户", "五保户"]


def test_a_group_from_another_village_is_refused(village, other_village):
    other_group = villages.find_group(other_village, "东组")
    with pytest.raises(HouseholdError, match="不属于本村"):
        add(village, group=other_group)


def test_household_without_a_joined_date_counts_as_registered_all_along(village):
    assert add(village).joined_on is None
    assert add(village, "李四", joined_on=dt.date(2020, 5, 1)).joined_on == dt.date(2020, 5, 1)


def test_deactivating_keeps_the_household_with_date_and_reason(village):
    household = add(village, joined_on=dt.date(2020, 1, 1))
    households.deactivate_household(None, household, dt.date(2026, 3, 1), "moved", "迁往县城")
    db.session.flush()
    kept = households.get_household(village, household.code)
    assert kept is not None and not kept.is_active
    assert (kept.deactivated_on, kept.deactivation_reason, kept.deactivation_note) == (
        dt.date(2026, 3, 1), "moved", "迁往县城",
    )
    [entry] = audit_entries("household.deactivate")
    assert entry.summary == "迁出：迁往县城"
    assert entry.target == f"农户 {household.code} 张三"


def test_deactivation_needs_a_known_reason_and_a_date_after_joining(village):
    household = add(village, joined_on=dt.date(2020, 1, 1))
    with pytest.raises(HouseholdError, match="注销原因"):
        households.deactivate_household(None, household, dt.date(2026, 3, 1), "sold")
    with pytest.raises(HouseholdError, match="不能早于登记日期"):
        households.deactivate_household(None, household, dt.date(2019, 12, 31), "moved")
    assert household.is_active


def test_a_deactivated_household_cannot_be_deactivated_again(village):
    household = add(village, joined_on=dt.date(2020, 1, 1))
    households.deactivate_household(None, household, dt.date(2026, 3, 1), "merged")
    with pytest.raises(HouseholdError, match="已于 2026-03-01 注销"):
        households.deactivate_household(None, household, dt.date(2026, 4, 1), "ended")


def test_reactivating_clears_the_deactivation(village):
    household = add(village, joined_on=dt.date(2020, 1, 1))
    households.deactivate_household(None, household, dt.date(2026, 3, 1), "ended", "误操作")
    households.reactivate_household(None, household)
    assert household.is_active and household.deactivated_on is None and household.deactivation_note == ""
    assert len(audit_entries("household.reactivate")) == 1


def test_audit_entries_hold_masked_id_and_phone_only(village):
    number = valid_id()
    household = add(village, id_number=number, phone="13812345678")
    households.update_household(
        None, household,
        HouseholdFields(head_name="张三", id_number=valid_id("11010119900101123"), phone="13987654321"),
    )
    db.session.flush()
    entries = audit_entries("household.create") + audit_entries("household.update")
    assert len(entries) == 2
    for entry in entries:
        text = (entry.before or "") + (entry.after or "")
        assert number not in text and "13812345678" not in text and "13987654321" not in text
    assert "110101********" + number[-4:] in entries[0].after
    assert "138****5678" in entries[0].after


def test_saving_unchanged_fields_writes_no_audit_entry(village):
    household = add(village, categories=["党员户"])
    same = HouseholdFields(head_name="张三", categories=["党员户"], joined_on=household.joined_on)
    assert households.update_household(None, household, same) is False
    assert audit_entries("household.update") == []


def test_repeated_categories_are_stored_once(village):
    household = add(village, categories=["党员户", "党员户"])
    db.session.flush()
    assert household.categories == ["党员户"]


def test_register_search_finds_name_initials_code_id_tail_and_phone(village):
    add(village, "张三", id_number=valid_id(), phone="13812345678")
    add(village, "李四", code="A-17")
    found = lambda q: [h.head_name for h in db.session.execute(households.register_query(village, q)).scalars()]  # noqa: E731
    assert found("张") == ["张三"]
    assert found("zs") == ["张三"]
    assert found("A-17") == ["李四"]
    assert found(valid_id()[-4:]) == ["张三"]
    assert found("5678") == ["张三"]
    assert found("王") == []


def _pypinyin_initials(name: str) -> str:
    """pypinyin reading the whole name, as the register computed initials before the character cache."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()[:50]


@pytest.mark.parametrize("name", [
    # Surnames and words pypinyin reads as a phrase, not character by character.
    "长孙无忌", "尉迟恭", "单于", "万俟卨", "曾国藩", "解缙", "朴志勇", "区小华", "仇大海", "查良镛",
    "乐乐", "重庆生", "银行长", "长江", "单田芳", "覃长发", "尉迟敬德",
    # Rare characters (extension A and B), names with ASCII, a middle dot, spaces and symbols.
    "䶮", "𠀀李", "王a1", "阿依古丽·买买提", " 张 三 ", "李（小）明", "", "〇", "张" * 60,
])
def test_name_initials_agree_with_pypinyin_reading_the_whole_name(name):
    assert households.name_initials(name) == _pypinyin_initials(name)


def test_name_initials_agree_with_pypinyin_for_a_village_of_made_up_and_mixed_names():
    import random

    from villagepoints import demo_data

    names = [row["head_name"] for row in demo_data.household_rows(2_000, ("一组",))]
    # Characters with several readings, thrown together so that some pairs form words.
    rng = random.Random(15)
    many_readings = "长重行乐单曾解朴区仇查覃尉迟万俟都会朝调发藏传和好数着了大家银"
    names += ["".join(rng.choice(many_readings) for _ in range(rng.randint(2, 4))) for _ in range(2_000)]
    assert [households.name_initials(n) for n in names] == [_pypinyin_initials(n) for n in names]
