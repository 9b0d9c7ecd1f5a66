from django.http import Http404


def _not_built_yet(request, *args, **kwargs):
    raise Http404


account_list = account_detail = _not_built_yet
