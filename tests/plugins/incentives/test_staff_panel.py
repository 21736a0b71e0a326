"""The staff page shows a person's rewards and fines (staff_panels hook)."""

from decimal import Decimal

from sqlalchemy import select

from fuwu.models import Staff

LINK = "All rewards and fines of eng"


def test_staff_page_shows_the_incentives_panel_to_who_may_see_it(web):
    site, app, browser = web(plugins=["incentives"], users={
        "boss": ["admin"], "eng": (["engineer"], "售后服务部"), "other": (["engineer"], "实施部")})

    def book(s):
        eng = s.scalar(select(Staff).where(Staff.username == "eng"))
        site.events.emit(s, "incentive_due", staff=eng, amount=Decimal("-30.00"), reason="Trip not recorded",
                         rule_id="TRV-8", source=("test.trip", 1))
        return eng.id

    eng_id = site.db.run(book)
    for who in ("boss", "eng"):  # an admin, and the person themself
        page = browser(who).get(f"/staff/{eng_id}")
        assert page.status_code == 200 and LINK in page.text, who
        assert f'href="/incentives/staff/{eng_id}"' in page.text
    # a colleague may open the staff page but not someone else's fines
    page = browser("other").get(f"/staff/{eng_id}")
    assert page.status_code == 200 and LINK not in page.text
    assert browser("other").get(f"/incentives/staff/{eng_id}").status_code == 404
