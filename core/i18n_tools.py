"""Translator tools behind ``fuwu i18n``: extract, update, compile, check.

Each plugin is its own Babel domain (core's is ``fuwu``) with catalogs in
``<package>/locale/<lang>/LC_MESSAGES/<domain>.po``. Messages are extracted
from Python (``_``, ``_l``, ``gettext``, ``lazy_gettext``, ``ngettext``,
``N_``) and Jinja templates (``_()`` / ``{% trans %}``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from .i18n import CORE_DOMAIN, LANGUAGES

KEYWORDS = {
    "_": None, "gettext": None, "_l": None, "lazy_gettext": None, "N_": None,
    "ngettext": (1, 2), "dgettext": (2,),
}
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**/templates/**.txt", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"},
           "**/templates/**.txt": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Domain:
    name: str
    sources: tuple[Path, ...]
    locale_dir: Path

    def po_path(self, language: str) -> Path:
        return self.locale_dir / language / "LC_MESSAGES" / f"{self.name}.po"


def domains(root: Path = ROOT) -> list[Domain]:
    """Core (with the default theme) and each built-in plugin folder."""
    found = [Domain(CORE_DOMAIN, (root / "core", root / "themes" / "default"), root / "core" / "locale")]
    plugins = root / "plugins"
    if plugins.is_dir():
        for folder in sorted(p for p in plugins.iterdir() if (p / "__init__.py").exists()):
            found.append(Domain(folder.name, (folder,), folder / "locale"))
    return found


def extract(domain: Domain) -> Catalog:
    catalog = Catalog(domain=domain.name, project="fuwu", charset="utf-8")
    for source in domain.sources:
        if not source.is_dir():
            continue
        for filename, lineno, message, comments, context in extract_from_dir(
                str(source), METHOD_MAP, OPTIONS, KEYWORDS, strip_comment_tags=True):
            if "/tests/" in f"/{filename}" or filename.startswith(("locale", "migrations")):
                continue
            catalog.add(message, None, [(str(Path(source.name) / filename), lineno)],
                        auto_comments=comments, context=context)
    return catalog


def update(domain: Domain, languages=LANGUAGES) -> dict[str, int]:
    """Merge new messages into each language's .po (obsolete ones dropped).

    ``en`` is the source language: its translations are filled with the
    message itself, so English needs no translator.
    """
    template = extract(domain)
    missing = {}
    for language in languages:
        path = domain.po_path(language)
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=language, domain=domain.name)
            catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
        else:
            catalog = Catalog(locale=language, domain=domain.name, project="fuwu", charset="utf-8")
            catalog.update(template, no_fuzzy_matching=True)
        catalog.revision_date = datetime.now().astimezone()
        if language == "en":
            for message in catalog:
                if message.id and not _translated(message):
                    message.string = message.id
        missing[language] = sum(1 for m in catalog if m.id and not _translated(m))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=0, sort_output=False, omit_header=False)
    return missing


def compile_all(root: Path = ROOT) -> int:
    count = 0
    for domain in domains(root):
        for language in LANGUAGES:
            path = domain.po_path(language)
            if path.exists():
                with path.open("rb") as f:
                    catalog = read_po(f, locale=language, domain=domain.name)
                buf = BytesIO()
                write_mo(buf, catalog)
                path.with_suffix(".mo").write_bytes(buf.getvalue())
                count += 1
    return count


def _translated(message) -> bool:
    if isinstance(message.string, tuple | list):
        return all(message.string)
    return bool(message.string)


@dataclass(frozen=True)
class Problem:
    domain: str
    language: str
    kind: str  # missing catalog / not in catalog / untranslated / fuzzy / placeholders
    message: str

    def __str__(self) -> str:
        return f"{self.domain} [{self.language}] {self.kind}: {self.message!r}"


def check(root: Path = ROOT) -> Iterator[Problem]:
    """Everything that keeps the catalogs from being complete."""
    import re

    placeholder = re.compile(r"%\(\w+\)s")
    for domain in domains(root):
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in extract(domain) if m.id}
        for language in LANGUAGES:
            path = domain.po_path(language)
            if not path.exists():
                if wanted:
                    yield Problem(domain.name, language, "missing catalog", str(path))
                continue
            with path.open("rb") as f:
                catalog = read_po(f, locale=language, domain=domain.name)
            have = {}
            for m in catalog:
                if m.id:
                    have[m.id if isinstance(m.id, str) else m.id[0]] = m
            for msgid in sorted(wanted - set(have)):
                yield Problem(domain.name, language, "not in catalog", msgid)
            for key, m in have.items():
                if key not in wanted:
                    continue
                if m.fuzzy:
                    yield Problem(domain.name, language, "fuzzy", key)
                elif not _translated(m):
                    yield Problem(domain.name, language, "untranslated", key)
                else:
                    strings = m.string if isinstance(m.string, tuple | list) else [m.string]
                    if any(set(placeholder.findall(s)) != set(placeholder.findall(key)) for s in strings):
                        yield Problem(domain.name, language, "placeholders differ", key)
