import json

from yibao import cli

from .conftest import API, POLICY, error_of


def test_a_quote_is_the_same_json_as_the_command_line(sanhe, capsys):
    request = {
        "policy": POLICY,
        "paid_on": "2022-12-05",
        "tier": 1,
        "identities": [{"key": "低保对象"}],
    }
    response = sanhe.post_json(f"{API}/quotes", request)
    assert response.status_code == 200, response.json()
    cli.main(
        ["quote", "--policy", POLICY, "--paid-on", "2022-12-05", "--tier", "1"]
        + ["--identity", "低保对象", "--json"]
    )
    assert response.json() == json.loads(capsys.readouterr().out)
    assert response.json()["personal"] == "35.00"


def test_a_refused_quote_is_400_with_the_engine_s_code_and_chinese_message(sanhe):
    request = {
        "policy": POLICY,
        "paid_on": "2022-12-05",
        "tier": 1,
        "identities": [{"key": "民政在乡老复员军人"}],
    }
    response = sanhe.post_json(f"{API}/quotes", request)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "identity_not_applicable"
    assert error["message"].startswith("身份“民政在乡老复员军人”不能以一档享受资助参保")
    assert error["details"]["reasons"]


def test_an_unknown_policy_is_refused(sanhe):
    response = sanhe.post_json(
        f"{API}/quotes", {"policy": "nowhere-1999", "paid_on": "2022-12-05", "tier": 1}
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "policy_not_found"


def test_a_malformed_date_is_named_in_chinese(sanhe):
    response = sanhe.post_json(
        f"{API}/quotes", {"policy": POLICY, "paid_on": "2022年12月5日", "tier": 1}
    )
    assert response.status_code == 400
    assert error_of(response)["message"] == "请求数据有误：请求内容“paid_on”应为日期（YYYY-MM-DD）"


def test_a_tongnan_quote_says_what_is_missing_and_quotes_full_price_on_an_office_decision(sanhe):
    request = {
        "policy": "tongnan-2023",
        "paid_on": "2022-11-15",
        "tier": 1,
        "identities": [{"key": "特困人员"}],
    }
    refused = sanhe.post_json(f"{API}/quotes", request)
    assert refused.status_code == 400
    assert error_of(refused)["code"] == "subsidy_rule_missing"
    assert "潼南府办发〔2021〕77号" in error_of(refused)["message"]
    decided = sanhe.post_json(f"{API}/quotes", {**request, "without_missing_subsidy": True})
    assert decided.status_code == 200, decided.json()
    assert (decided.json()["subsidy"], decided.json()["personal"]) == ("0.00", "350.00")
