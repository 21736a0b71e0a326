"""A third party must be able to write a plugin from the guide alone."""

from pathlib import Path

from fuwu import hookdocs, hookspecs

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugin-guide.md"


def test_guide_reference_matches_the_hookspecs():
    text = GUIDE.read_text(encoding="utf-8")
    start, end = text.index(hookdocs.BEGIN), text.index(hookdocs.END) + len(hookdocs.END)
    assert text[start:end] == hookdocs.render(), "run `python -m fuwu.hookdocs` and paste into the guide"


def test_every_hookspec_is_documented_with_its_signature():
    text = GUIDE.read_text(encoding="utf-8")
    specs = [name for name, f in vars(hookspecs).items() if hasattr(f, "fuwu_spec")]
    assert len(specs) >= 20
    for name, signature, doc, _first in hookdocs.hooks():
        assert f"### `{signature}`" in text
        assert doc.strip(), f"hookspec {name} has no docstring"
