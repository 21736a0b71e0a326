"""What a plugin's form does with what people type (``fuwu.web.forms``)."""

from starlette.datastructures import FormData

from fuwu.web.forms import Field, Form, record_id


def test_numbers_beyond_what_the_database_holds_are_refused_with_a_message():
    form = Form([Field("visits", "Visits", kind="int"), Field("fee", "Fee", kind="money"),
                 Field("cap", "Cap", kind="money")])
    assert not form.load(FormData({"visits": "99999999999999999999", "fee": "1e400", "cap": "12,345.675"}))
    assert str(form.errors["visits"]) == "The number is too large."
    assert str(form.errors["fee"]) == "Enter an amount in yuan, such as 1200.00."
    assert "cap" not in form.errors and str(form.values["cap"]) == "12345.68"  # half up, to the fen
    assert form.load(FormData({"visits": "-2147483647", "fee": "¥30", "cap": "0"}))


def test_record_id_finds_nothing_for_what_no_record_can_have():
    assert [record_id(v) for v in ("7", "0", "-1", "abc", None, "2147483647", "2147483648")] == \
        [7, None, None, None, None, 2147483647, None]


def test_numbers_dates_and_addresses_typed_in_full_width_are_read_as_typed_in_ascii():
    form = Form([Field("fee", "Fee", kind="money"), Field("visits", "Visits", kind="int"),
                 Field("on", "On", kind="date"), Field("mail", "Mail", kind="email"),
                 Field("name", "Name"), Field("notes", "Notes", kind="textarea")])
    assert form.load(FormData({"fee": "１２００．５０", "visits": "３", "on": "２０２６－１１－２６",
                               "mail": "ｌｉ＠ｅｘａｍｐｌｅ．ｃｏｍ", "name": "杭州（集团）", "notes": "（备注）"}))
    assert str(form.values["fee"]) == "1200.50" and form.values["visits"] == 3
    assert form.values["on"].isoformat() == "2026-11-26" and form.values["mail"] == "li@example.com"
    assert (form.values["name"], form.values["notes"]) == ("杭州（集团）", "（备注）")  # names and text as typed
