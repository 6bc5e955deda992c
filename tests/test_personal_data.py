import pytest

from villagepoints.personal_data import (
    InvalidIdNumber,
    InvalidPhone,
    id_check_char,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_id_number,
    normalize_phone,
)

# A made-up number whose check digit is right (GB 11643 worked example).
GOOD_ID = "11010519491231002X"


def test_check_char_matches_the_standard_example():
    assert id_check_char("11010519491231002") == "X"


def test_valid_id_is_normalised_to_upper_case():
    assert normalize_id_number(" 11010519491231002x ") == GOOD_ID


def test_full_width_digits_typed_on_a_phone_are_stored_as_plain_digits():
    assert normalize_id_number("１１０１０５１９４９１２３１００２ｘ") == GOOD_ID


def test_digits_of_other_scripts_are_refused_not_stored():
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in GOOD_ID[:17]) + "X"
    with pytest.raises(InvalidIdNumber, match="前17位应为数字"):
        normalize_id_number(arabic_indic)


@pytest.mark.parametrize(
    "raw, words",
    [
        ("1101051949123100", "18位"),
        ("110105194912310021", "校验位"),
        ("11010519491231002A", "最后一位"),
        ("1.10105194912310E+17", "科学计数法"),
        ("", "为空"),
    ],
)
def test_bad_ids_are_refused_with_the_reason(raw, words):
    with pytest.raises(InvalidIdNumber, match=words):
        normalize_id_number(raw)


@pytest.mark.parametrize("raw, clean", [("138 0013 8000", "13800138000"), ("(0571)88886666", "057188886666"), ("+8613800138000", "13800138000"), ("0571-88886666", "0571-88886666")])
def test_phones_are_normalised(raw, clean):
    assert normalize_phone(raw) == clean


def test_full_width_phone_digits_are_stored_as_plain_digits():
    assert normalize_phone("１３８００１３８０００") == "13800138000"


@pytest.mark.parametrize("raw", ["12345", "23800138000", "1380013800a", "١٣٨٠٠١٣٨٠٠٠"])
def test_bad_phones_are_refused(raw):
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


def test_masks_show_only_what_design_allows():
    assert mask_id_number(GOOD_ID) == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张**"
    assert mask_name("欧阳春花") == "欧阳**"
    assert mask_name("欧阳") == "欧*"
    assert mask_id_number(None) == ""
