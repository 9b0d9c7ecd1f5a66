"""Gives every request an id and records its client address for the audit log."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse

from portico.audit import context


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.set_context(
            context.RequestContext(request_id=request_id, ip=request.META.get("REMOTE_ADDR"))
        )
        try:
            response = self.get_response(request)
        finally:
            context.reset_context(token)
        response["X-Request-ID"] = request_id
        return response
