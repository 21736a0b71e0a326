"""complaints answers field_service's question (RES-7) through the hook alone."""

from datetime import UTC, date, datetime


from fuwu.models import Customer, Staff


def test_valid_complaints_per_technician_reach_field_service(make_site):
    site = make_site(["complaints", "field_service"])
    from fuwu_plugins.complaints.models import Complaint

    def setup(s):
        tech, other = Staff(code="T1", name="流动技术员"), Staff(code="T2", name="另一位")
        customer = Customer(name="投诉客户")
        s.add_all([tech, other, customer])
        s.flush()
        columns = {c.key for c in Complaint.__table__.columns}
        base = {k: v for k, v in dict(customer_id=customer.id, category="attitude", description="态度差",
                                      channel="phone", source="direct").items() if k in columns}
        made = []
        for i, (who, when, validity) in enumerate([
                (tech.id, datetime(2026, 10, 5, 2, tzinfo=UTC), "valid"),
                (tech.id, datetime(2026, 10, 20, 2, tzinfo=UTC), "valid"),
                (tech.id, datetime(2026, 10, 21, 2, tzinfo=UTC), "invalid"),
                (tech.id, datetime(2026, 11, 1, 2, tzinfo=UTC), "valid"),
                (other.id, datetime(2026, 10, 9, 2, tzinfo=UTC), "valid")]):
            made.append(Complaint(**base, number=f"TS-{i}", received_at=when, concerned_staff_id=who,
                                  validity=validity))
        s.add_all(made)
        return tech.id, other.id

    try:
        tech, other = site.db.run(setup)
    except Exception as exc:  # the complaint model needs more fields: say which
        raise AssertionError(f"could not build complaints for the test: {exc}") from None
    with site.db.session(write=False) as s:
        answers = site.plugins.pm.hook.field_service_complaints(
            session=s, staff_ids=[tech, other], month_start=date(2026, 10, 1), month_end=date(2026, 11, 1))
    merged = {}
    for answer in answers:
        for staff_id, n in (answer or {}).items():
            merged[staff_id] = merged.get(staff_id, 0) + n
    assert merged == {tech: 2, other: 1}
