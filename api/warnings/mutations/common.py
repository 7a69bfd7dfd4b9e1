"""What the warning mutations share: on-demand scoring after a clue (field names: api.errors.camel_field)."""

from __future__ import annotations

from domain.errors import DomainError
from domain.identity.actor import SYSTEM, Actor

__all__ = ["score_entities"]


def _score(session, actor: Actor, entity_id: int) -> None:
    from ml import service as ml_service

    ml_service.score_entity(session, actor, entity_id)


async def score_entities(db, entity_ids: list[int], *, limit: int = 50) -> int:
    """Score each new clue's entity now with the champion (the engine's single-entity scoring), each in its own
    unit of work after the clues are saved. The engine acts as the system: an integrator pushing clues need not
    manage models. No champion yet, or an entity founded after today, is skipped. Large pushes score the first
    `limit`; the nightly run covers the rest."""
    done = 0
    for entity_id in entity_ids[:limit]:
        try:
            await db.run(_score, SYSTEM, entity_id)
            done += 1
        except DomainError:
            continue
    return done
