"""API resources of this area (registered on the /api/v1/ router)."""


def register(router) -> None:
    pass
