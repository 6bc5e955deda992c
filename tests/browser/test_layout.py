"""The staff layout on a phone: the menu folds behind one button."""
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "browser-pass-42"


@pytest.fixture
def viewport() -> dict:
    return {"width": 375, "height": 800}


def test_phone_menu_folds_behind_a_button(make_village, make_user, page, login):
    make_village()
    make_user("clerk-wang", "clerk", password=PASSWORD)
    login("clerk-wang", PASSWORD)
    record = page.get_by_role("link", name="记分", exact=True)
    expect(record).to_be_hidden()
    page.get_by_text("菜单", exact=True).click()
    expect(record).to_be_visible()
    record.click()
    expect(page.get_by_role("heading", name="记分")).to_be_visible()


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}])
def test_wide_screen_shows_the_menu_without_the_button(make_village, make_user, page, login):
    make_village()
    make_user("clerk-wang", "clerk", password=PASSWORD)
    login("clerk-wang", PASSWORD)
    expect(page.get_by_role("link", name="记分", exact=True)).to_be_visible()
    expect(page.get_by_text("菜单", exact=True)).to_be_hidden()
