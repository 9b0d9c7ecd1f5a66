"""Request parsers of the API: DRF's, with JSON nested too deeply refused as a 400."""

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # A body like "[[[[…" exhausts the decoder's stack; DRF only turns ValueError into a 400.
            raise ParseError(_("JSON parse error - the document is nested too deeply.")) from None
