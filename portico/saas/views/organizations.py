from django.http import Http404


def _not_built_yet(request, *args, **kwargs):
    raise Http404


organization_list = organization_new = organization_detail = organization_credentials = organization_reset_password = _not_built_yet
