from tests.records import factories as f

from .conftest import API, YEAR, payment_body


def test_the_ledger_of_a_village_lists_everyone_with_what_they_owe_and_paid(sanhe, town):
    paid = f.person(town.sanhe, name="已缴人")
    f.person(town.sanhe, name="未登记人")
    sanhe.post_json(f"{API}/payments", payment_body(paid, channel="wechat"))
    response = sanhe.get(f"{API}/villages/{town.sanhe.pk}/ledger?benefit_year={YEAR}")
    assert response.status_code == 200
    body = response.json()
    assert body["village"] == {"id": town.sanhe.pk, "name": "三河街社区"}
    assert body["totals"] == {"enrolled": 1, "paid": 1, "zero_declarations": 0, "amount": "350.00"}
    rows = {row["name"]: row for row in body["rows"]}
    assert rows["已缴人"]["status"] == "已缴费"
    assert rows["已缴人"]["paid"] == "350.00" and rows["已缴人"]["channel"] == "微信"
    assert rows["已缴人"]["paid_at"].endswith("+08:00")
    assert rows["未登记人"]["status"] == "未登记" and rows["未登记人"]["personal"] is None
    assert paid.id_number not in response.text


def test_the_ledger_needs_a_benefit_year(sanhe, town):
    response = sanhe.get(f"{API}/villages/{town.sanhe.pk}/ledger")
    assert response.status_code == 400
    assert "benefit_year" in response.json()["error"]["message"]
