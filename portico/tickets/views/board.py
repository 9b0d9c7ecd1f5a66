"""The technicians' ticket board (TK-5, TK-6)."""

from __future__ import annotations

urlpatterns: list = []
