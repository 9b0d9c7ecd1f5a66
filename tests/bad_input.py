"""Hostile input for the bad-input tests: odd strings, oversized values, repeated keys, raw bytes.

Forms get text (valid or not), a list where one value is expected, or nothing at all; raw
bodies carry bytes that are not UTF-8. Whatever arrives, the answer is never a 500.
"""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

ONE_MB = "x" * 1_000_000

NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "abc\x00def",
    ONE_MB,
    "0",
    "-1",
    "99999999999999999999999999999",
    "1e309",
    "NaN",
    "null",
    "true",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "' OR '1'='1' --",
    "%00%ff",
    "../../../../etc/passwd",
    "ñ" * 300,
    "😀" * 100,
    "\u202eevil",
    "\r\nSet-Cookie: x=1",
    "a@b",
    "@",
    "+4915112345678",
    "+" + "9" * 40,
    "123456",
    " 123456 ",
]

text_value = st.one_of(st.sampled_from(NASTY_STRINGS), st.text(max_size=120))
field_value = st.one_of(text_value, st.lists(text_value, max_size=3))

# Forms are posted both as multipart (the browser default for files) and as urlencoded.
encodings = st.sampled_from(["multipart", "urlencoded"])

FUZZ = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

NON_UTF8_BODIES = [
    b"\xff\xfe\xfd",
    b"name=\xff\xfe&login=\xc3\x28&password=\x80",
    b"code=%ff%fe%00&phone=%c3%28",
    b"\x00" * 64,
    b'{"name": "\xff"}',
]


def form(fields: list[str]) -> st.SearchStrategy[dict]:
    """Any subset of `fields`, each a string or a list of strings."""
    return st.fixed_dictionaries({}, optional={name: field_value for name in fields})


def post(client, path: str, data: dict, encoding: str = "multipart", **extra):
    if encoding == "urlencoded":
        return client.post(path, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded", **extra)
    return client.post(path, data, **extra)


def assert_handled(response, allowed: set[int] | None = None) -> None:
    """Never a server error; where given, one of the expected answers."""
    assert response.status_code < 500, response.content[:500]
    if allowed is not None:
        assert response.status_code in allowed, (response.status_code, response.content[:300])


def has_field_error(response) -> bool:
    html = response.content.decode()
    return "is-invalid" in html or "invalid-feedback" in html or "alert-danger" in html
