"""What the numbers say about a customer: tenure, orders, value, returns, contact, feedback.

Computed from the rows themselves with a few indexed aggregate queries on every read, so
they are fresh after any write (an order upsert, a new message, a rating) without a
cache to invalidate. Segments and policy rules are written over these names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from profiles.models import Customer, Feedback, Message, Order, OrderPayment, Ticket, Turn

RECENT_DAYS = 30  # what "recent" means for orders and feedback
OPEN_STATUSES = ("pending", "processed")


class CustomerFeatures(BaseModel):
    """One customer's features; the field names are the variables of segment expressions."""

    tenure_days: float
    order_count: int
    lifetime_value: float  # payments minus refunds
    open_orders: int  # pending or processed
    recent_orders: int  # placed in the last RECENT_DAYS days
    returns: int  # orders with a return requested
    exchanges: int
    cancellations: int
    open_tickets: int
    conversations: int
    last_contact_days: float | None  # days since the customer last wrote; None if never
    negative_feedback_recent: int  # ratings of 1–2 or "not resolved" in RECENT_DAYS days


FEATURE_NAMES: tuple[str, ...] = tuple(CustomerFeatures.model_fields)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _days(now: datetime, then: datetime) -> float:
    return round((now - _aware(then)).total_seconds() / 86400, 2)


def customer_features(
    s: Session, customer_id: str, now: datetime | None = None
) -> CustomerFeatures | None:
    """The features of one customer, selected by customer id; None if the id is unknown."""
    now = now or datetime.now(UTC)
    customer = s.get(Customer, customer_id)
    if customer is None:
        return None
    recent = now - timedelta(days=RECENT_DAYS)
    by_status = dict(
        s.exec(
            select(Order.status, func.count())
            .where(Order.customer_id == customer_id)
            .group_by(Order.status)
        ).all()
    )
    recent_orders = s.exec(
        select(func.count()).where(Order.customer_id == customer_id, Order.created_at >= recent)
    ).one()
    money = dict(
        s.exec(
            select(OrderPayment.transaction_type, func.coalesce(func.sum(OrderPayment.amount), 0))
            .join(Order, col(Order.id) == col(OrderPayment.order_id))
            .where(Order.customer_id == customer_id)
            .group_by(OrderPayment.transaction_type)
        ).all()
    )
    open_tickets = s.exec(
        select(func.count()).where(Ticket.customer_id == customer_id, Ticket.status == "open")
    ).one()
    conversations = s.exec(
        select(func.count(func.distinct(Message.conversation_id))).where(
            Message.customer_id == customer_id
        )
    ).one()
    last_contact = s.exec(
        select(func.max(Message.created_at)).where(
            Message.customer_id == customer_id, Message.role == "customer"
        )
    ).one()
    negative = s.exec(
        select(func.count())
        .select_from(Feedback)
        .join(Turn, col(Turn.id) == col(Feedback.turn_id))
        .where(
            Turn.customer_id == customer_id,
            Feedback.created_at >= recent,
            or_(col(Feedback.rating) <= 2, col(Feedback.resolved).is_(False)),
        )
    ).one()
    return CustomerFeatures(
        tenure_days=_days(now, customer.created_at),
        order_count=sum(by_status.values()),
        lifetime_value=round(float(money.get("payment", 0)) - float(money.get("refund", 0)), 2),
        open_orders=sum(by_status.get(st, 0) for st in OPEN_STATUSES),
        recent_orders=int(recent_orders),
        returns=sum(n for st, n in by_status.items() if "return" in st),
        exchanges=sum(n for st, n in by_status.items() if "exchange" in st),
        cancellations=by_status.get("cancelled", 0),
        open_tickets=int(open_tickets),
        conversations=int(conversations),
        last_contact_days=_days(now, last_contact) if last_contact else None,
        negative_feedback_recent=int(negative),
    )
