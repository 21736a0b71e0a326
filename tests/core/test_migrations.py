"""Migrations: core base + plugin branches; upgrades keep every row."""

from __future__ import annotations

from sqlalchemy import insert, inspect, select, text

from fuwu import migrate
from fuwu.seed import sync_roles


def test_upgrade_to_new_plugin_revision_keeps_all_rows(thirdparty_path, make_site):
    site = make_site(["hotline"], migrated=False)
    # install the plugin's first version
    migrate.upgrade(site, ["core@head", "0001_hotline"])
    site.db.run(lambda s: sync_roles(site, s))
    with site.db.engine.begin() as conn:
        conn.execute(text("INSERT INTO customer (name, address, region, office, account_type, phone, notes, "
                          "created_at, updated_at, version) VALUES ('老客户', '', '', '', 'key', '', '', "
                          "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"))
        cust = conn.execute(text("SELECT id FROM customer")).scalar()
        for i in range(25):
            conn.execute(text("INSERT INTO hotline_call (customer_id, summary, state, created_at, updated_at, "
                              "version) VALUES (:c, :s, 'draft', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"),
                         {"c": cust, "s": f"call {i}"})
    assert migrate.current(site)["hotline"] == "0001_hotline"
    # the new release adds a column; upgrade everything
    migrate.upgrade(site)
    current = migrate.current(site)
    assert current["core"] == migrate.head_of(site, "core")
    assert current["hotline"] == "0002_hotline_urgency"
    with site.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT summary, urgency FROM hotline_call ORDER BY id")).all()
        assert conn.execute(text("SELECT name FROM customer")).scalar() == "老客户"
    assert rows == [(f"call {i}", "normal") for i in range(25)]


def test_disabling_a_plugin_keeps_its_tables_and_data(thirdparty_path, make_site, databases):
    site = make_site(["hotline"])
    assert "hotline_call" in inspect(site.db.engine).get_table_names()
    url = site.config.database_url
    site.close()
    from fuwu.config import Config
    from fuwu.site import Site

    plain = Site(Config(home=site.config.home, database_url=url, plugins=[], secret_key="x"))
    migrate.upgrade(plain)
    assert "hotline_call" in inspect(plain.db.engine).get_table_names()
    assert migrate.current(plain)["hotline"] == "0002_hotline_urgency"
    plain.close()


def test_sqlite_runs_with_wal_and_foreign_keys(site):
    if site.db.dialect != "sqlite":
        assert site.db.engine.dialect.driver == "psycopg"
        return
    with site.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_upgrade_translates_the_form_name_of_notifications_written_before(make_site):
    from fuwu.models import Staff
    from fuwu.notifications import Notification

    site = make_site(migrated=False)
    migrate.upgrade(site, ["0002_web"])  # the schema is the same; the rows are written the old way
    waiting = "%(form)s “%(title)s” is waiting for you"

    def old_rows(db):
        # Core, not the ORM: an ORM save would write today's audit row, which the old schema cannot hold
        staff_id = db.execute(insert(Staff).values(code="S1", name="王芳", username="wang", password_hash="")
                              .returning(Staff.id)).scalar_one()
        db.add_all([Notification(staff_id=staff_id, message=waiting, params={"form": "Contracts", "title": "FW-7"}),
                    Notification(staff_id=staff_id, message="Report ready", params={"form": "Contracts"})])

    site.db.run(old_rows)
    migrate.upgrade(site)
    chinese = site.catalogs.get("zh_Hans").gettext
    with site.db.session(write=False) as db:
        shown = [n.text(chinese) for n in db.scalars(select(Notification).order_by(Notification.id))]
    assert shown == [chinese(waiting) % {"form": chinese("Contracts"), "title": "FW-7"}, "Report ready"]
    assert "Contracts" not in shown[0]


def test_the_migrations_build_what_every_shipped_model_declares(make_site):
    """``fuwu db upgrade`` makes exactly the tables, columns, types, indexes
    and constraints that core and every plugin shipped with fuwu map: a
    model changed without its migration would fail at run time, on a
    deployer's database, not here. On SQLite and on PostgreSQL."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from fuwu import plugins
    from fuwu.db import Base

    shipped = [a.name for a in plugins.available() if a.value.startswith("fuwu_plugins.")]
    assert len(shipped) >= 8
    site = make_site(shipped)
    assert set(shipped) <= set(site.plugins.names)  # their models are imported (register_models)
    # a third-party test plugin's models may be loaded in this process too; not this site's
    foreign = {m.local_table.name for m in Base.registry.mappers
               if not m.class_.__module__.startswith(("fuwu.", "fuwu_plugins."))}

    def ours(_obj, name, type_, _reflected, _compare_to) -> bool:
        return not (type_ == "table" and name in foreign)

    with site.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": ours})
        assert compare_metadata(context, Base.metadata) == []
