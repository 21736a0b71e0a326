from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fuwu.db import Model
from fuwu.workflow import WorkflowMixin


class HotlineCall(WorkflowMixin, Model):
    __tablename__ = "hotline_call"
    __workflow__ = "hotline.call"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    summary: Mapped[str] = mapped_column(String(200))
    # added by the second migration (0002): existing rows get "normal"
    urgency: Mapped[str] = mapped_column(String(10), default="normal")

    def __str__(self):
        return self.summary
