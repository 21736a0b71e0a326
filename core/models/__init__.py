"""Core entities. Plugins import them from here: ``from fuwu.models import Customer``."""

from .contract import CONTRACT_KINDS, Contract, contract_product
from .customer import ACCOUNT_TYPES, Contact, Customer, CustomerProduct, Product, customer_regions
from .staff import BUILTIN_ROLES, DEPARTMENT_KINDS, GRADES, Department, Position, Role, RolePermission, Staff

__all__ = [
    "ACCOUNT_TYPES", "BUILTIN_ROLES", "CONTRACT_KINDS", "DEPARTMENT_KINDS", "GRADES",
    "Contact", "Contract", "Customer", "CustomerProduct", "Department", "Position",
    "Product", "Role", "RolePermission", "Staff", "contract_product", "customer_regions",
]
