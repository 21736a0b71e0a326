"""Each plugin's words in its own translation: two plugins may translate one
English word two ways ("Place" is a ranking's 名次 and a training's 地点),
and each page, template or Python, reads its own plugin's."""

from __future__ import annotations

import functools
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
ZH = {"Accept-Language": "zh-CN"}


@functools.cache
def own(domain: str, message: str) -> str:
    """``message`` as ``domain``'s own zh_Hans catalog translates it."""
    base = ROOT / ("core" if domain == "fuwu" else f"plugins/{domain}") / "locale/zh_Hans/LC_MESSAGES"
    with (base / f"{domain}.po").open("rb") as f:
        return read_po(f).get(message).string


def test_a_word_two_plugins_translate_differently_reads_each_plugins_way(web):
    # both orders of the two plugins: with one merged catalog, the later one's word won on both pages
    for plugins in (["field_service", "training"], ["training", "field_service"]):
        _site, _app, browser = web(plugins=plugins, users={"boss": ["admin"]})
        b = browser("boss")
        rank, place = own("field_service", "Place"), own("training", "Place")
        assert rank != place  # 名次, 地点
        assert f"<th>{rank}</th>" in b.get("/field_service/awards", headers=ZH).text
        assert f"<th>{place}</th>" in b.get("/training/sessions", headers=ZH).text
        # in the plugins' Python code too: the headers of their exports
        assert rank in b.get("/field_service/awards?format=csv", headers=ZH).text.splitlines()[0]
        assert place in b.get("/training/sessions?format=csv", headers=ZH).text.splitlines()[0]


def test_a_core_page_keeps_cores_word_where_a_plugin_has_another(web):
    _site, _app, browser = web(plugins=["field_service"], users={"boss": ["admin"]})
    page = browser("boss").get("/waiting", headers=ZH).text
    assert own("fuwu", "Record") != own("field_service", "Record")  # 单据, 登记
    assert f'<th class="wide">{own("fuwu", "Record")}</th>' in page
