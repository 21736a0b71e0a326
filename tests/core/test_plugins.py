"""Plugin discovery and start-up errors, through the hooks and the CLI."""

from __future__ import annotations

import pytest

from fuwu.config import Config
from fuwu.plugins import PluginError, available, discover
from fuwu.site import Site


def test_thirdparty_plugin_is_discovered_through_its_entry_point(thirdparty_path):
    found = {a.name: a for a in available()}
    assert "hotline" in found
    hotline = found["hotline"]
    assert hotline.distribution == "fuwu-hotline"
    assert hotline.plugin.manifest.version == "1.0"


def test_enabled_plugins_come_in_dependency_order(make_plugin):
    make_plugin("zeta_base")
    make_plugin("alpha_user", depends=["zeta_base"])
    make_plugin("beta_free")
    order = [p.name for p in discover(["alpha_user", "beta_free", "zeta_base"])]
    # depth first (zeta_base and beta_free have none), then by name
    assert order == ["beta_free", "zeta_base", "alpha_user"]


@pytest.mark.parametrize("case", ["missing", "disabled", "version"])
def test_unsatisfied_dependency_stops_startup_naming_the_plugin(make_plugin, case):
    make_plugin("needy", depends=["contracts_x>=2.0" if case == "version" else "contracts_x"])
    if case != "missing":
        make_plugin("contracts_x")
    enabled = ["needy"] if case != "version" else ["needy", "contracts_x"]
    with pytest.raises(PluginError) as err:
        discover(enabled)
    message = str(err.value)
    assert "needy" in message and "contracts_x" in message
    assert "\n" not in message
    if case == "version":
        assert ">=2.0" in message and "1.0" in message


def test_dependency_cycle_is_refused(make_plugin):
    make_plugin("egg", depends=["hen"])
    make_plugin("hen", depends=["egg"])
    with pytest.raises(PluginError, match="cycle: (egg -> hen -> egg|hen -> egg -> hen)"):
        discover(["egg", "hen"])


def test_plugin_that_fails_to_import_is_named_with_the_way_out(make_plugin):
    make_plugin("broken", plugin="import not_a_module_anywhere\n")
    with pytest.raises(PluginError) as err:
        discover(["broken"])
    assert "broken" in str(err.value) and "fuwu plugins disable broken" in str(err.value)
    # listing still works and marks it broken instead of crashing
    item = next(a for a in available() if a.name == "broken")
    assert item.plugin is None and "failed to import" in item.error


def test_duplicate_plugin_name_is_refused(make_plugin):
    make_plugin("twin")
    make_plugin("twin_b", entry="twin", dist="other-dist")
    with pytest.raises(PluginError, match="twin.*claimed by two packages"):
        discover(["twin"])


def test_misspelt_hookimpl_fails_at_startup_with_plugin_name(make_plugin, tmp_path):
    make_plugin("typo", plugin="""
        @hookimpl
        def register_modles():
            return []
    """)
    with pytest.raises(PluginError) as err:
        Site(Config(home=tmp_path, plugins=["typo"], secret_key="x"))
    assert "typo" in str(err.value) and "register_modles" in str(err.value)


def test_enabled_but_not_installed_plugin_is_refused(tmp_path):
    with pytest.raises(PluginError, match="ghost.*not installed"):
        Site(Config(home=tmp_path, plugins=["ghost"], secret_key="x"))


def test_plugin_can_declare_its_own_event_that_others_listen_to(make_plugin, tmp_path):
    make_plugin("emitter", plugin="""
        import sys
        from pluggy import HookspecMarker
        spec = HookspecMarker("fuwu")

        @spec
        def parcel_sent(session, parcel):
            "A parcel left."

        @hookimpl
        def register_hookspecs():
            return [sys.modules[__name__]]
    """)
    make_plugin("listener", depends=["emitter"], plugin="""
        HEARD = []

        @hookimpl
        def parcel_sent(session, parcel):
            HEARD.append(parcel)
            return "ok"
    """)
    site = Site(Config(home=tmp_path, plugins=["emitter", "listener"], secret_key="x"))
    assert site.events.emit(None, "parcel_sent", parcel="P-1") == ["ok"]
    import fuwu_test_listener.plugin as listener

    assert listener.HEARD == ["P-1"]


def test_hook_results_follow_dependency_order(make_plugin, tmp_path):
    for name, deps in [("base_one", ()), ("child_two", ("base_one",)), ("another", ())]:
        make_plugin(name, depends=deps, plugin=f"""
            from fuwu import Permission
            @hookimpl
            def register_permissions():
                return [Permission("{name}.thing.view", "x")]
        """)
    site = Site(Config(home=tmp_path, plugins=["child_two", "another", "base_one"], secret_key="x"))
    names = [p.name for p in site.permissions.by_name.values()]
    ours = [n.split(".")[0] for n in names if not n.startswith("core.")]
    assert ours == ["another", "base_one", "child_two"]
    assert names[0].startswith("core.")


def test_trace_env_prints_hook_calls(make_plugin, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FUWU_TRACE_PLUGINS", "1")
    site = Site(Config(home=tmp_path, plugins=[], secret_key="x"))
    site.plugins.collect("register_jobs")
    assert "[fuwu] register_jobs" in capsys.readouterr().err
