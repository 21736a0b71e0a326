"""Configuration (``fuwu.toml`` + ``FUWU_*`` environment) and the settings registry.

Deployment facts (database URL, secret, enabled plugins) come from the file
and the environment. Business numbers are *settings*: each declared by a
plugin with its regulation's value as default; the effective value is the
admin's database override, else ``[settings]`` in ``fuwu.toml``, else the
default.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from time import monotonic
from typing import Any

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import INTEGER_LIMIT, Model
from .epoch import changed_in, mark_changed
from .errors import ConfigError, ValidationError
from .i18n import lazy_gettext as _l
from .money import AMOUNT_LIMIT

CONFIG_NAME = "fuwu.toml"
#: below this, not even a small import file would fit in a request
MIN_UPLOAD_BYTES = 64 * 1024


@dataclass
class Config:
    """Where a site lives and what it runs."""

    home: Path = Path("var")
    database_url: str = ""
    secret_key: str = ""
    plugins: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    language: str = "zh_Hans"
    timezone: str = "Asia/Shanghai"
    theme: str = "default"
    https: bool = False
    #: the address people reach the site at ("https://fuwu.example.com"), for links
    #: in e-mails and exports; empty: the address each request came in at
    public_url: str = ""
    #: the largest request with a file (an import, an attachment); 413 beyond
    max_upload_bytes: int = 10 * 1024 * 1024
    max_form_bytes: int = 1024 * 1024
    #: how long an app process may reuse a sign-in it read (0: read every request)
    session_cache_seconds: float = 60.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home = Path(self.home)
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.home / 'fuwu.sqlite3').resolve()}"

    @property
    def path(self) -> Path:
        return self.home / CONFIG_NAME

    @classmethod
    def load(cls, home: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
        """Read ``<home>/fuwu.toml`` (home: argument, ``FUWU_HOME`` or ``./var``)."""
        env = os.environ if env is None else env
        home = Path(home or env.get("FUWU_HOME") or "var")
        data: dict[str, Any] = {}
        path = home / CONFIG_NAME
        if path.exists():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(_l("%(path)s is not valid TOML: %(error)s"), path=path, error=exc) from None
        site = data.get("site", {})
        zone = site.get("timezone", "Asia/Shanghai")
        if not _is_zone(zone):
            raise ConfigError(_l("%(path)s: timezone %(zone)s is not a time zone name such as Asia/Shanghai."),
                              path=path, zone=zone)
        public_url = env.get("FUWU_PUBLIC_URL") or site.get("public_url", "")
        if public_url and not _is_web_address(public_url):
            raise ConfigError(_l("%(path)s: public_url %(url)s is not a web address such as "
                                 "https://fuwu.example.com."), path=path, url=public_url)
        upload = site.get("max_upload_bytes", cls.max_upload_bytes)
        if type(upload) is not int or upload < MIN_UPLOAD_BYTES:
            raise ConfigError(_l("%(path)s: max_upload_bytes must be a whole number of bytes, at least %(min)s."),
                              path=path, min=MIN_UPLOAD_BYTES)
        config = cls(
            home=home,
            database_url=env.get("FUWU_DATABASE_URL") or data.get("database", {}).get("url", ""),
            secret_key=env.get("FUWU_SECRET_KEY") or site.get("secret_key", ""),
            plugins=list(data.get("plugins", {}).get("enabled", [])),
            settings=dict(data.get("settings", {})),
            language=site.get("language", "zh_Hans"),
            timezone=zone,
            theme=site.get("theme", "default"),
            https=bool(site.get("https", False)),
            public_url=public_url,
            session_cache_seconds=float(site.get("session_cache_seconds", 60.0)),
            max_upload_bytes=upload,
            extra=data,
        )
        return config

    def to_toml(self) -> dict[str, Any]:
        data = dict(self.extra)
        data["site"] = {**data.get("site", {}), "secret_key": self.secret_key, "language": self.language,
                        "timezone": self.timezone, "theme": self.theme}
        data["database"] = {**data.get("database", {}), "url": self.database_url}
        data["plugins"] = {**data.get("plugins", {}), "enabled": list(self.plugins)}
        if self.settings:
            data["settings"] = dict(self.settings)
        return data

    def save(self) -> None:
        import tomli_w

        self.home.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(tomli_w.dumps(self.to_toml()), encoding="utf-8")
        tmp.replace(self.path)

    @staticmethod
    def new_secret() -> str:
        return secrets.token_urlsafe(48)


# --- Settings registry -------------------------------------------------------


def _parse_bool(text: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in {"1", "true", "yes", "on", "是"}:
        return True
    if lowered in {"0", "false", "no", "off", "否"}:
        return False
    raise ValueError(text)


def _parse_time(text: str) -> time:
    return time.fromisoformat(str(text).strip())


def _parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


PARSERS: dict[type, Callable[[str], Any]] = {
    int: lambda t: int(str(t).strip()),
    Decimal: _parse_decimal,
    str: str,
    bool: _parse_bool,
    time: _parse_time,
}


@dataclass(frozen=True)
class Setting:
    """A value a deployer can change; ``rule`` is the regulation ID it implements."""

    key: str
    type: type
    default: Any
    label: Any
    rule: str = ""
    help: Any = ""
    minimum: Any = None
    maximum: Any = None
    choices: tuple[str, ...] = ()
    #: for text with a structure the type does not check ("kind=points, ..."): called
    #: with the parsed value, raises ValueError(message) when the value is unusable, so
    #: the settings page, the CLI and fuwu.toml all refuse it instead of a page failing later
    check: Callable[[Any], Any] | None = None
    plugin: str = ""

    def parse(self, raw: Any) -> Any:
        """Turn text (form, TOML, DB) into a value; ValidationError if it isn't one."""
        if isinstance(raw, self.type) and not (self.type is int and isinstance(raw, bool)):
            value = raw
        else:
            try:
                value = PARSERS[self.type](raw)
            except (ValueError, TypeError):
                raise ValidationError({self.key: _l("Not a valid value.")}) from None
        # Whatever a setting's own bounds: a number the database holds (a count,
        # an amount, whatever a plugin's declaration forgot to bound)
        widest = {int: INTEGER_LIMIT, Decimal: AMOUNT_LIMIT}.get(self.type)
        if widest is not None and not -widest < value < widest:
            raise ValidationError({self.key: _l("The number is too large.")})
        if self.minimum is not None and value < self.minimum:
            raise ValidationError({self.key: _l("Must be at least %(min)s.", min=self.minimum)})
        if self.maximum is not None and value > self.maximum:
            raise ValidationError({self.key: _l("Must be at most %(max)s.", max=self.maximum)})
        if self.choices and value not in self.choices:
            raise ValidationError({self.key: _l("Not one of the allowed values.")})
        if self.check is not None:
            try:
                self.check(value)
            except ValueError as exc:
                raise ValidationError({self.key: exc.args[0] if exc.args else _l("Not a valid value.")}) from None
        return value

    def format(self, value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, time):
            return value.strftime("%H:%M")
        return str(value)


class SettingValue(Model):
    """An admin's override of a setting (text, parsed by the setting's type)."""

    __tablename__ = "core_setting"

    key: Mapped[str] = mapped_column(String(120), unique=True)
    value: Mapped[str] = mapped_column(Text)


# Built once: it runs on nearly every request.
_OVERRIDES = select(SettingValue.key, SettingValue.value)


class Settings:
    """All declared settings of a site and their effective values."""

    _CACHE = "fuwu_settings"

    def __init__(self, declared: Iterable[Setting], file_values: Mapping[str, Any]):
        self.declared: dict[str, Setting] = {}
        for setting in declared:
            if setting.key in self.declared:
                raise ConfigError(_l("Setting %(key)s is declared twice."), key=setting.key)
            self.declared[setting.key] = setting
        self.file_values = dict(file_values)
        for key, raw in self.file_values.items():
            if key in self.declared:
                try:
                    self.declared[key].parse(raw)
                except ValidationError:
                    raise ConfigError(_l("Setting %(key)s in fuwu.toml has an invalid value %(value)r."),
                                      key=key, value=raw) from None

    def __contains__(self, key: str) -> bool:
        return key in self.declared

    def setting(self, key: str) -> Setting:
        try:
            return self.declared[key]
        except KeyError:
            raise ConfigError(_l("Unknown setting %(key)s."), key=key) from None

    def share(self, epoch) -> None:
        """Keep the database overrides between units of work, until any
        process changes one (``fuwu.epoch``) or a minute has passed."""
        self._epoch = epoch
        epoch.watch(SettingValue)
        epoch.on_change(self._forget)

    _epoch = None
    #: (epoch stamp, when read, overrides) kept by this process
    _shared: tuple[int, float, dict[str, str]] | None = None
    SHARED_SECONDS = 60.0

    def _forget(self) -> None:
        self._shared = None

    def overrides(self, session: Session | None) -> dict[str, str]:
        """Database overrides, read once per unit of work (or kept by the process)."""
        if session is None:
            return {}
        cached = session.info.get(self._CACHE)
        if cached is not None:
            return cached
        epoch = self._epoch
        shared = self._shared
        # a unit of work that changes settings reads its own, uncommitted ones
        own = changed_in(session)
        if not own and epoch is not None and shared is not None \
                and epoch.is_current(shared[0], shared[1], self.SHARED_SECONDS):
            cached = shared[2]
        else:
            stamp = epoch.read() if epoch is not None else 0
            cached = dict(session.execute(_OVERRIDES).all())
            if epoch is not None and epoch.enabled and not own:
                self._shared = (stamp, monotonic(), cached)
        session.info[self._CACHE] = cached
        return cached

    def get(self, key: str, session: Session | None = None) -> Any:
        setting = self.setting(key)
        overrides = self.overrides(session)
        if key in overrides:
            try:
                return setting.parse(overrides[key])
            except ValidationError:
                pass  # a bad stored value falls back, never breaks a page
        if key in self.file_values:
            return setting.parse(self.file_values[key])
        return setting.default

    def source(self, key: str, session: Session | None = None) -> str:
        if key in self.overrides(session):
            return "database"
        if key in self.file_values:
            return "fuwu.toml"
        return "default"

    def set(self, session: Session, key: str, raw: Any) -> Any:
        """Store an admin's override (validated); returns the parsed value."""
        setting = self.setting(key)
        value = setting.parse(raw)
        row = session.scalar(select(SettingValue).where(SettingValue.key == key))
        if row is None:
            session.add(SettingValue(key=key, value=setting.format(value)))
        else:
            row.value = setting.format(value)
        session.info.pop(self._CACHE, None)
        mark_changed(session)
        return value

    def reset(self, session: Session, key: str) -> None:
        self.setting(key)
        row = session.scalar(select(SettingValue).where(SettingValue.key == key))
        if row is not None:
            session.delete(row)
        session.info.pop(self._CACHE, None)
        mark_changed(session)


def _is_zone(name: object) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows (``Asia/Shanghai``)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(name, str):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _is_web_address(url: object) -> bool:
    """Whether ``url`` is an http(s) address with a host (``https://fuwu.example.com/fuwu``)."""
    from urllib.parse import urlsplit

    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not (parts.query or parts.fragment)
