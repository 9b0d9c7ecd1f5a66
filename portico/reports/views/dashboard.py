from django.http import Http404


def _not_built_yet(request, *args, **kwargs):
    raise Http404


dismiss_notice = welcome_done = _not_built_yet
