from django.http import Http404


def _not_built_yet(request, *args, **kwargs):
    raise Http404


request_export = export_list = export_detail = export_download = _not_built_yet
