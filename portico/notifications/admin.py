"""The platform operator's site (Django admin under /operator/), where in-app notices are published
to partners' staff (DASH-3).

Only an active platform operator reaches it. Everyone signs in through Portico's own sign-in
(password, then the second factor); the admin's password-only form is never offered. Anyone else
who is signed in finds no page there (404).
"""

from __future__ import annotations

from functools import wraps

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from portico.identity.middleware import has_second_factor_session
from portico.notifications import notices
from portico.notifications.models import Notice


class OperatorSite(admin.AdminSite):
    site_header = _("Portico platform operator")
    site_title = _("Portico operator")
    index_title = _("Publish to partners")

    def has_permission(self, request: HttpRequest) -> bool:
        # The operator reaches every partner: a password alone is never enough (ID-3).
        return _is_operator(request.user) and has_second_factor_session(request)

    def admin_view(self, view, cacheable: bool = False):
        guarded = super().admin_view(view, cacheable)

        @wraps(view)
        def only_operators(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.user.is_authenticated and not _is_operator(request.user):
                raise Http404  # a partner's staff user, an end user ...: this site does not exist for them
            return guarded(request, *args, **kwargs)

        return only_operators

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not request.user.is_authenticated:
            target = request.GET.get(REDIRECT_FIELD_NAME) or reverse(f"{self.name}:index")
            return redirect(f"{reverse('account_login')}?{urlencode({REDIRECT_FIELD_NAME: target})}")
        if not _is_operator(request.user):
            raise Http404
        if not self.has_permission(request):
            return redirect("identity:mfa_setup")
        return redirect(f"{self.name}:index")


def _is_operator(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_platform_operator


operator_site = OperatorSite(name="operator")


@admin.register(Notice, site=operator_site)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ["title", "level", "partner", "published_from", "published_until", "created_at"]
    list_filter = ["level", "published_from", ("partner", admin.EmptyFieldListFilter)]
    search_fields = ["title", "body"]
    list_select_related = ["partner"]
    fields = ["title", "body", "level", "partner", "published_from", "published_until"]

    # Changes go through the notices' services, which audit them (AUD-1).

    def save_model(self, request: HttpRequest, obj: Notice, form, change: bool) -> None:
        before = None
        if change:
            before = notices.notice_snapshot(Notice.objects.get(pk=obj.pk))
        notices.save_notice(request.user, obj, before)

    def delete_model(self, request: HttpRequest, obj: Notice) -> None:
        notices.delete_notice(request.user, obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for notice in queryset:
            notices.delete_notice(request.user, notice)
