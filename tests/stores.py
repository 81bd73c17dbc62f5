"""Looking into the real vector store the way an auditor would: by what it holds."""

from __future__ import annotations


def tag_of(container, customer_id: str) -> str:
    """The tag the customer's sealed history items carry in the store (they have a key)."""
    seal = container.seals.for_reading(customer_id)
    assert seal is not None, f"{customer_id} has no history key"
    return seal.tag


def stored_items(container, customer_id: str, tag: str | None = None) -> list:
    """The history collection's raw items held for the customer: those under their seal's
    tag (or `tag`, taken before their key was erased) and any stored under their id."""
    items = list(container.index.get("history", where={"customer_id": customer_id}))
    seal = container.seals.for_reading(customer_id)
    for t in {t for t in (tag, seal.tag if seal else None) if t}:
        items += container.index.get("history", where={"tag": t})
    return items


def stored_texts(container, customer_id: str) -> list[str]:
    """The customer's texts in the store, opened with their key (sorted)."""
    seal = container.seals.for_reading(customer_id)
    if seal is None:
        return []
    return sorted(
        seal.open_text(i.id, i.document) or "<unreadable>"
        for i in stored_items(container, customer_id)
    )


class MemoryKeys:
    """A seal key store in a dict (retrieval.sealing.KeyStore) for history without SQL."""

    def __init__(self) -> None:
        self.rows: dict[str, bytes] = {}

    def get(self, customer_id: str) -> bytes | None:
        return self.rows.get(customer_id)

    def get_or_create(self, customer_id: str, key: bytes) -> bytes:
        return self.rows.setdefault(customer_id, key)
