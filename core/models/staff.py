"""Staff, departments, positions and roles (CORE-3)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, Model
from ..i18n import lazy_gettext as _l

#: Departments named by the regulations (CORE-3); demo data and ``fuwu init`` seed them.
DEPARTMENT_KINDS = {
    "after_sales": _l("After-sales service"),
    "customer_relations": _l("Customer relations"),
    "administration": _l("Administration and HR"),
    "finance": _l("Finance"),
    "quality": _l("Quality"),
    "gm_office": _l("General manager's office"),
    "key_accounts": _l("Key-account department"),
    "implementation": _l("Implementation"),
    "headquarters": _l("Headquarters"),
    "other": _l("Other"),
}

GRADES = {
    "junior": _l("Junior"),
    "intermediate": _l("Intermediate"),
    "senior": _l("Senior"),
    "manager": _l("Manager"),
    "executive": _l("Executive"),
}

#: Roles every site starts with; plugins grant them permissions through
#: the ``default_role_grants`` hook. A person may hold several roles.
BUILTIN_ROLES = {
    "admin": _l("Administrator"),
    "engineer": _l("Service engineer"),
    "group_lead": _l("Group lead / supervisor"),
    "service_manager": _l("Service manager"),
    "coordinator": _l("Coordinator"),
    "trainer": _l("Trainer"),
    "quality_supervisor": _l("Quality supervisor"),
    "finance": _l("Finance"),
    "administration": _l("Administration"),
    "general_manager": _l("General manager"),
    "sales": _l("Sales"),
}

staff_role = Table(
    "staff_role",
    Base.metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
)


class Department(Model):
    __tablename__ = "department"
    __record_label__ = _l("Department")  # the audit log's name for it
    __record_url__ = "/departments/{id}"

    name: Mapped[str] = mapped_column(String(100), unique=True, info={"label": _l("Name")})
    kind: Mapped[str] = mapped_column(String(40), default="other",
                                      info={"label": _l("Kind"), "choices": DEPARTMENT_KINDS})
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), info={"label": _l("Part of")})
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", use_alter=True, ondelete="SET NULL"), info={"label": _l("Manager")})

    parent: Mapped[Department | None] = relationship(remote_side="Department.id")
    manager: Mapped[Staff | None] = relationship(foreign_keys=[manager_id], post_update=True)

    def __str__(self) -> str:
        return self.name


class Position(Model):
    """A job title with its grade, e.g. intermediate after-sales engineer."""

    __tablename__ = "position"
    __table_args__ = (UniqueConstraint("name", "grade"),)

    name: Mapped[str] = mapped_column(String(100), info={"label": _l("Job title")})
    grade: Mapped[str] = mapped_column(String(20), default="junior", info={"label": _l("Grade"), "choices": GRADES})

    def __str__(self) -> str:
        return self.name


class Role(Model):
    __tablename__ = "role"
    __record_label__ = _l("Role")  # the audit log's name for it
    __record_url__ = "/roles/{id}"
    __name_is_msgid__ = True  # the built-in roles' names are translated for the reader

    key: Mapped[str] = mapped_column(String(60), unique=True, info={"label": _l("Key")})
    name: Mapped[str] = mapped_column(String(100), info={"label": _l("Name")})
    description: Mapped[str] = mapped_column(String(500), default="", info={"label": _l("Description")})
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)

    permissions: Mapped[list[RolePermission]] = relationship(
        back_populates="role", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def permission_names(self) -> set[str]:
        return {p.permission for p in self.permissions}

    def __str__(self) -> str:
        return self.name


#: the built-in role that may do everything
ADMIN_ROLE = "admin"


def grants_allow(role_keys, permissions, permission: str) -> bool:
    """What a person's grants allow: everything for the admin role, else the
    permissions granted (and not revoked) through their roles."""
    return ADMIN_ROLE in role_keys or permission in permissions


class RolePermission(Model):
    __tablename__ = "role_permission"
    __record_label__ = _l("Permission")  # the audit log's name for it
    __audit_parent__ = ("role", "role_id")
    __table_args__ = (UniqueConstraint("role_id", "permission"),)

    role_id: Mapped[int] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"))
    permission: Mapped[str] = mapped_column(String(120), info={"label": _l("Permission")})
    #: An admin removed a seeded grant: the row stays so upgrades never re-add it.
    revoked: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _l("Revoked")})

    role: Mapped[Role] = relationship(back_populates="permissions")


class Staff(Model):
    """A member of staff; with a username and password they can sign in."""

    __tablename__ = "staff"
    __record_label__ = _l("Staff member")  # the audit log's name for it
    __record_url__ = "/staff/{id}"
    __table_args__ = (
        CheckConstraint("probation_ends_on IS NULL OR hired_on IS NULL OR probation_ends_on >= hired_on",
                        name="probation_after_hire"),
    )

    code: Mapped[str] = mapped_column(String(40), unique=True, info={"label": _l("Staff number")})
    name: Mapped[str] = mapped_column(String(100), info={"label": _l("Full name")})
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"),
                                                      info={"label": _l("Department")})
    position_id: Mapped[int | None] = mapped_column(ForeignKey("position.id", ondelete="SET NULL"),
                                                    info={"label": _l("Position")})
    email: Mapped[str] = mapped_column(String(200), default="", info={"label": _l("E-mail")})
    phone: Mapped[str] = mapped_column(String(40), default="", info={"label": _l("Phone")})
    hired_on: Mapped[date | None] = mapped_column(info={"label": _l("Hired on")})
    probation_ends_on: Mapped[date | None] = mapped_column(info={"label": _l("Probation ends on")})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _l("Works here (active)")})
    # Sign-in (the web shell uses these; argon2id hashes only).
    username: Mapped[str | None] = mapped_column(String(60), unique=True, info={"label": _l("Username")})
    #: audited as "changed" without its value (``fuwu.audit._kept``)
    password_hash: Mapped[str | None] = mapped_column(String(200), info={"label": _l("Password")})
    language: Mapped[str | None] = mapped_column(String(10), info={"label": _l("Language")})

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    position: Mapped[Position | None] = relationship()
    roles: Mapped[list[Role]] = relationship(secondary=staff_role, lazy="selectin", info={"label": _l("Roles")})

    #: (role keys, permission names) set by the sign-in lookup, so a request
    #: need not load role objects; None means "compute from ``roles``".
    _grants = None

    def set_grants(self, role_keys: set[str], permissions: set[str]) -> None:
        self._grants = (role_keys, permissions)

    def on_probation(self, today: date) -> bool:
        return self.probation_ends_on is not None and today <= self.probation_ends_on

    @property
    def permission_names(self) -> set[str]:
        if self._grants is not None:
            return self._grants[1]
        names: set[str] = set()
        for role in self.roles:
            names |= {p.permission for p in role.permissions if not p.revoked}
        return names

    @property
    def is_admin(self) -> bool:
        if self._grants is not None:
            return ADMIN_ROLE in self._grants[0]
        return any(r.key == ADMIN_ROLE for r in self.roles)

    def can(self, permission: str) -> bool:
        if self._grants is not None:
            return grants_allow(*self._grants, permission)
        return self.is_admin or permission in self.permission_names

    def __str__(self) -> str:
        return self.name
