"""Catalogs are complete: every message in Python and templates is in every
language's catalog, translated, not fuzzy, with the same placeholders."""

from fuwu import i18n_tools


def test_catalogs_are_complete():
    problems = [str(p) for p in i18n_tools.check()]
    assert problems == [], f"{len(problems)} problems; run `fuwu i18n update` and translate:\n" + "\n".join(problems[:40])


def test_every_domain_ships_three_languages():
    for domain in i18n_tools.domains():
        for language in ("zh_Hans", "zh_Hant", "en"):
            assert domain.po_path(language).exists(), f"{domain.name} lacks {language}"
