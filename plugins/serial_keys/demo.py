"""Demo data for ``fuwu demo load``: product keys on core's demo service
contracts (some with a dongle, one revoked), so the lookup, the list and the
customer panel have something to show. Idempotent by serial number."""

from __future__ import annotations

from fuwu.models import Contract, Product, Staff
from sqlalchemy import select

from .models import ProductKey
from .services import issue, revoke


def load(site, session) -> None:
    admin = session.scalar(select(Staff).where(Staff.code == "S001"))
    contracts = list(session.scalars(select(Contract).where(Contract.kind == "service", Contract.number.like("FW-%"))
                                     .order_by(Contract.id)))
    fallback = session.scalars(select(Product).order_by(Product.code)).first()
    known = {(row[0], row[1]) for row in session.execute(select(ProductKey.contract_id, ProductKey.product_id))}
    for i, contract in enumerate(contracts, start=1):
        products = list(contract.products) or ([fallback] if fallback else [])
        for j, product in enumerate(products, start=1):
            serial = f"{product.code}-{contract.signed_on.year}-{i:03d}{j}"
            if (contract.id, product.id) in known:
                continue
            key = ProductKey(customer_id=contract.customer_id, product_id=product.id, contract_id=contract.id,
                             serial_number=serial, service_code=f"FWM{contract.customer_id:04d}{j}",
                             dongle_number=f"DG{880000 + i * 100 + j}" if i % 3 else None,
                             installed_on=contract.installed_on, notes="")
            issue(session, key, admin, note="演示数据")
            if i == 4 and j == 1 and admin is not None:
                revoke(session, key, admin, "加密锁丢失，客户已书面报失")
