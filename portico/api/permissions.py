from rest_framework.permissions import BasePermission


class HasActiveMembership(BasePermission):
    """Every API call runs as one enabled membership; what it may touch is the policy's answer."""

    def has_permission(self, request, view) -> bool:
        membership = getattr(request._request, "membership", None)
        return membership is not None and membership.enabled
