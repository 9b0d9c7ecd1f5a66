from django.http import Http404


def _not_built_yet(request, *args, **kwargs):
    raise Http404


log_in_as_client = end_client_login = _not_built_yet
