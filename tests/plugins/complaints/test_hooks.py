"""What the plugin declares through the hooks: protected routes, permissions
that exist, settings with their rule IDs, demo data loading twice."""

from __future__ import annotations

from sqlalchemy import func, select
from fuwu.web.app import create_app, route_permissions
from fuwu_plugins.complaints.models import Complaint


def test_every_route_declares_a_known_permission(make_site):
    site = make_site(["complaints"])
    app = create_app(site)
    seen = []
    for path, permission, _public in route_permissions(app):
        if path.startswith("/complaints/"):
            assert permission is not None, path
            assert permission in site.permissions, permission
            seen.append(path)
    assert len(seen) >= 14


def test_every_regulation_number_is_a_setting_with_its_rule(make_site):
    site = make_site(["complaints"])
    declared = {k: s for k, s in site.settings.declared.items() if k.startswith("complaints.")}
    expected = {"complaints.reply_hours": (3, "CMP-3"), "complaints.follow_up_days": (1, "CMP-4"),
                "complaints.hq_report_days": (1, "CMP-5"), "complaints.report_working_days": (3, "CMP-5"),
                "complaints.dismissal_count": (2, "CMP-7"), "complaints.manager_count": (3, "CMP-7"),
                "complaints.window_months": (6, "CMP-7")}
    for key, (default, rule) in expected.items():
        assert (declared[key].default, declared[key].rule) == (default, rule), key
    assert str(declared["complaints.attitude_fine"].default) == "200.00"


def test_demo_data_loads_twice_without_duplicates_and_every_page_shows_it(web):
    site, _app, browser = web(plugins=["complaints"], users={"q": ["quality_supervisor", "general_manager"]})
    from fuwu_plugins.complaints.demo import load

    count = lambda: site.db.run(lambda s: s.scalar(select(func.count()).select_from(Complaint)))  # noqa: E731
    site.db.run(lambda s: load(site, s))
    first = count()
    assert first == 5
    site.db.run(lambda s: load(site, s))
    assert count() == first
    states = site.db.run(lambda s: sorted(s.scalars(select(Complaint.state))))
    assert states == ["archived", "archived", "follow_up", "received", "replied"]
    q = browser("q")
    ids = site.db.run(lambda s: list(s.scalars(select(Complaint.id))))
    for cid in ids:
        for lang in ("en", "zh-CN", "zh-TW"):
            assert q.get(f"/complaints/{cid}", headers={"Accept-Language": lang}).status_code == 200
    assert q.get("/complaints/").text.count('data-complaint="') == first
    assert q.get("/").status_code == 200
    r = q.submit("/complaints/reports/build", {"month": site.db.run(
        lambda s: s.scalar(select(func.min(Complaint.received_at)))).strftime("%Y-%m")}, page="/complaints/reports")
    report = q.get(r.headers["location"], headers={"Accept-Language": "zh-CN"})
    assert report.status_code == 200 and "<svg" in report.text and "投诉分析报告" in report.text
    assert q.get(r.headers["location"] + "?format=xlsx").status_code == 200
