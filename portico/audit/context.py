"""Who is acting, from where, in which request: carried through contextvars, not signatures."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portico.identity.models import Membership


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    actor: Membership | None = None
    impersonator: Membership | None = None


# RequestContext is frozen: the shared default cannot be changed in place.
_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "portico_request_context", default=RequestContext()  # noqa: B039
)


def current() -> RequestContext:
    return _current.get()


def set_context(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def reset_context(token: contextvars.Token) -> None:
    _current.reset(token)


def set_actor(actor: Membership | None, impersonator: Membership | None = None) -> None:
    _current.set(replace(_current.get(), actor=actor, impersonator=impersonator))
