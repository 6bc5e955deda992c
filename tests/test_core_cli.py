"""The core commands: users from stdin, the register as JSON."""
import json

from villagepoints.extensions import db
from villagepoints.models import User
from villagepoints.personal_data import id_check_char

ID17 = "11010519800101123"
ID = ID17 + id_check_char(ID17)


def test_create_user_reads_the_password_from_stdin_and_scopes_the_village(app, runner, make_village, web):
    make_village()
    result = runner.invoke(args=["create-user", "lisi", "--role", "clerk", "--village", "jiangba"],
                           input="a-long-password\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="lisi")).scalar_one()
        assert [v.slug for v in user.villages] == ["jiangba"] and "a-long-password" not in user.password_hash
    assert "蒋坝村" in web.login("lisi", "a-long-password").get_data(as_text=True)


def test_create_user_refuses_a_short_password_and_an_unknown_village(runner, make_village):
    make_village()
    short = runner.invoke(args=["create-user", "lisi", "--role", "clerk"], input="short\n")
    assert short.exit_code != 0 and "至少需要8位" in short.output
    unknown = runner.invoke(args=["create-user", "lisi", "--role", "clerk", "--village", "nowhere"], input="x" * 9)
    assert unknown.exit_code != 0 and "nowhere" in unknown.output


def test_households_json_lists_the_register_with_ids_masked(runner, make_village, make_household):
    make_village()
    make_household(head_name="张三", id_number=ID, categories=["党员户"], members=4)
    result = runner.invoke(args=["households", "--village", "jiangba", "--format", "json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert {k: row[k] for k in ("head_name", "group", "members", "categories", "status")} == {
        "head_name": "张三", "group": "一组", "members": 4, "categories": ["党员户"], "status": "active",
    }
    assert row["code"] == "0001" and row["id_masked"] == "110105********" + ID[-4:]
    assert ID not in result.output
