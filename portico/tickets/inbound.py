"""Reading one inbound email (TK-7) into what the ticket needs: threading ids, sender, the reply
without its quoted history, attachments. Pure parsing, no database; it never raises on any bytes.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import mimetypes
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from html.parser import HTMLParser

_POLICY = email.policy.default

REPLY_MARKER = "## Reply above this line ##"
SUBJECT_TOKEN = re.compile(r"\[\s*Ticket\s*#\s*(\d{1,18})\s*\]", re.IGNORECASE)

# Deeper nesting than this is an attack or a loop, not a mail program.
MAX_DEPTH = 20
MAX_PARTS = 500


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass
class ParsedMail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    sender: str = ""
    sender_name: str = ""
    subject: str = ""
    ticket_number: int | None = None
    auto_reply_reason: str = ""
    body: str = ""
    attachments: list[InboundAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def parse_message(raw: bytes) -> ParsedMail:
    """Everything the ticket needs from one message. Never raises: what cannot be read is left
    empty and named in `defects`, and the caller keeps the raw message."""
    parsed = ParsedMail()
    try:
        _parse(bytes(raw), parsed)
    except Exception as exc:  # noqa: BLE001 - a message that breaks the parser is held, not lost
        parsed.defects.append(f"The message could not be read completely ({exc.__class__.__name__}).")
    return _storable(parsed)


def _storable(parsed: ParsedMail) -> ParsedMail:
    """Whatever path a value took, it leaves as text a database stores (see `_text`)."""
    for name in ("message_id", "sender", "sender_name", "subject", "auto_reply_reason"):
        setattr(parsed, name, _text(getattr(parsed, name), one_line=True))
    parsed.body = _text(parsed.body)
    for name in ("in_reply_to", "references", "defects"):
        values = [_text(value, one_line=True) for value in getattr(parsed, name)]
        setattr(parsed, name, [value for value in dict.fromkeys(values) if value])
    parsed.attachments = [
        InboundAttachment(_text(a.filename, one_line=True), _text(a.content_type, one_line=True), a.data)
        for a in parsed.attachments
    ]
    return parsed


def _parse(raw: bytes, parsed: ParsedMail) -> None:
    msg = email.message_from_bytes(raw, policy=_POLICY)
    headers = _Headers(msg)
    steps = (
        ("Message-ID", lambda: _threading(headers, parsed)),
        ("From", lambda: _sender(headers, parsed)),
        ("Subject", lambda: _subject(headers, parsed)),
        ("automatic reply headers", lambda: _auto_reply(msg, headers, parsed)),
        ("body", lambda: _content(msg, parsed)),
    )
    for what, step in steps:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - one unreadable part leaves the others readable
            parsed.defects.append(f"The {what} could not be read ({exc.__class__.__name__}).")
    try:
        _collect_defects(msg, parsed)
    except Exception:  # noqa: BLE001 - the defect list is a courtesy
        pass


# --- text hygiene ------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Declared charset first, then UTF-8, then Windows-1252 (what mislabelled mail mostly is)."""
    for name in (charset, "utf-8", "cp1252"):
        if not name:
            continue
        try:
            return data.decode(name)
        except Exception:  # noqa: BLE001 - unknown, non-text or wrong charset: try the next
            continue
    return data.decode("latin-1")


def _text(value: str, *, one_line: bool = False) -> str:
    """A string any database stores: raw 8-bit bytes (kept as surrogates by the parser) decoded,
    no NUL or other control characters."""
    if _SURROGATE.search(value):
        try:
            value = _decode_bytes(value.encode("utf-8", "surrogateescape"))
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8", "replace")
    if one_line:
        return " ".join(_LINE_CONTROL.sub(" ", value).split())
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


class _Headers:
    """Header values read from the raw text, so a malformed header can never raise on access."""

    def __init__(self, msg: Message) -> None:
        self.items = [(name.lower(), value) for name, value in msg.raw_items()]

    def all(self, name: str) -> list[str]:
        """Every value of the header, unfolded."""
        return ["".join(_text(str(value)).split("\n")) for key, value in self.items if key == name.lower()]

    def raw(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def decoded(self, name: str) -> str:
        value = self.raw(name)
        if value is None:
            return ""
        try:
            return _text(str(_POLICY.header_factory(name, value)), one_line=True)
        except Exception:  # noqa: BLE001 - fall back to the lenient decoder, then to the raw text
            try:
                return _text(str(make_header(decode_header(value))), one_line=True)
            except Exception:  # noqa: BLE001
                return _text(value, one_line=True)


# --- headers -----------------------------------------------------------------------------------

_BRACKETED_ID = re.compile(r"<\s*([^<>\s]+?)\s*>")


def _ids(values: list[str]) -> list[str]:
    """Message ids in order, without angle brackets; bare `local@domain` words when a mail program
    left the brackets out."""
    found: list[str] = []
    for value in values:
        value = _text(value, one_line=True)
        ids = _BRACKETED_ID.findall(value)
        if not ids:
            ids = [word.strip("<>\"'(),;") for word in value.split() if "@" in word]
        found.extend(i for i in ids if i)
    return list(dict.fromkeys(found))


def _threading(headers: _Headers, parsed: ParsedMail) -> None:
    own = _ids(headers.all("Message-ID")[:1])
    parsed.message_id = own[0] if own else ""
    if not parsed.message_id:
        parsed.defects.append("The message has no Message-ID.")
    parsed.in_reply_to = _ids(headers.all("In-Reply-To"))
    parsed.references = _ids(headers.all("References"))


def _valid_address(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return bool(at and local and domain and "@" not in local.strip('"') and not any(c.isspace() for c in address))


def _sender(headers: _Headers, parsed: ParsedMail) -> None:
    """From alone names the sender: Reply-To is chosen by whoever sent the message. Two From
    addresses make the identity ambiguous, so the message has no sender."""
    values = headers.all("From")
    if not values:
        parsed.defects.append("The message has no From address.")
        return
    addresses = _addresses(values[0])
    if len(values) > 1 or len(addresses) > 1:
        parsed.defects.append("The message names more than one sender in From.")
        return
    if not addresses or not _valid_address(addresses[0][1]):
        parsed.defects.append("The From address could not be read.")
        return
    name, address = addresses[0]
    parsed.sender = _text(address, one_line=True).lower()
    parsed.sender_name = _text(name, one_line=True)


def _addresses(value: str) -> list[tuple[str, str]]:
    try:
        header = _POLICY.header_factory("from", value)
        return [(a.display_name or "", a.addr_spec or "") for a in header.addresses]  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - the strict parser gave up; the old one is more forgiving
        pairs = [(n, a) for n, a in email.utils.getaddresses([value]) if a]
        decoded = []
        for name, address in pairs:
            try:
                name = str(make_header(decode_header(name)))
            except Exception:  # noqa: BLE001
                pass
            decoded.append((name, address))
        return decoded


def _subject(headers: _Headers, parsed: ParsedMail) -> None:
    parsed.subject = headers.decoded("Subject")
    match = SUBJECT_TOKEN.search(parsed.subject)
    if match and int(match.group(1)) > 0:
        parsed.ticket_number = int(match.group(1))


def _first_word(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _auto_reply(msg: Message, headers: _Headers, parsed: ParsedMail) -> None:
    """Why this message was sent by a program (RFC 3834 and what mail programs do in practice)."""

    def shown(name: str) -> str:
        value = headers.decoded(name)[:200]
        return f"{name}: {value}" if value else name

    checks = (
        ("Auto-Submitted", lambda v: _first_word(v) not in ("", "no")),
        ("X-Autoreply", lambda v: _first_word(v) != "no"),
        ("X-Autorespond", lambda v: _first_word(v) != "no"),
        ("Precedence", lambda v: _first_word(v) in ("bulk", "list", "junk", "auto_reply")),
        # Exchange sets it on out-of-office and other automatic replies, whatever its value.
        ("X-Auto-Response-Suppress", lambda v: True),
    )
    for name, is_automatic in checks:
        value = headers.raw(name)
        if value is not None and is_automatic(value):
            parsed.auto_reply_reason = shown(name)
            return
    return_path = headers.raw("Return-Path")
    if return_path is not None and return_path.replace(" ", "").strip() in ("", "<>"):
        parsed.auto_reply_reason = "Return-Path: <> (a bounce)"
        return
    if _content_type(msg) == "multipart/report":
        report = _param(msg, "report-type")[:100]
        parsed.auto_reply_reason = "Content-Type: multipart/report" + (f"; report-type={report}" if report else "")


# --- body and attachments ----------------------------------------------------------------------


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:  # noqa: BLE001
        return ""


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001
        name = ""
    if "=?" in name:
        try:
            name = str(make_header(decode_header(name)))
        except Exception:  # noqa: BLE001 - keep the name as given
            pass
    return _text(name, one_line=True)


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # noqa: BLE001
        return None


def _payload(part: Message) -> bytes:
    """The decoded bytes of a leaf part; what cannot be decoded is kept as it came."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _message_bytes(part: Message) -> bytes:
    """An attached message (message/rfc822) as bytes, so it can be saved as an .eml file."""
    inner = part.get_payload()
    if isinstance(inner, list):
        inner = inner[0] if inner else None
    if isinstance(inner, Message):
        try:
            return inner.as_bytes()
        except Exception:  # noqa: BLE001 - a broken inner message still has its text
            return inner.as_string(policy=email.policy.compat32).encode("utf-8", "surrogateescape")
    return _payload(part)


def _leaves(msg: Message) -> list[tuple[Message, str]]:
    """Every part that holds content, with its parent's type; attached messages are leaves."""
    found: list[tuple[Message, str]] = []

    def walk(part: Message, parent: str, depth: int) -> None:
        if len(found) >= MAX_PARTS:
            return
        kind = _content_type(part)
        children = part.get_payload() if part.is_multipart() else None
        if isinstance(children, list) and kind.startswith("multipart/") and depth < MAX_DEPTH:
            for child in children:
                if isinstance(child, Message):
                    walk(child, kind, depth + 1)
        else:
            found.append((part, parent))

    walk(msg, "", 0)
    return found


def _text_of(part: Message) -> str:
    text = _text(_decode_bytes(_payload(part), _charset(part)))
    if _content_type(part) == "text/html":
        return html_to_text(text)
    if _param(part, "format").lower() == "flowed":
        return _unflow(text, delsp=_param(part, "delsp").lower() == "yes")
    return text


def _param(part: Message, name: str) -> str:
    """A Content-Type parameter, "" when missing or unreadable."""
    try:
        return email.utils.collapse_rfc2231_value(part.get_param(name) or "")
    except Exception:  # noqa: BLE001
        return ""


def _body_part(msg: Message) -> Message | None:
    try:
        return msg.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        return None


_SIGNATURES = ("application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature")


def _content(msg: Message, parsed: ParsedMail) -> None:
    body = _body_part(msg)
    text = _text_of(body) if body is not None else ""
    if body is not None and not text.strip() and _content_type(body) == "text/plain":
        # Some programs send an empty plain part beside the real HTML one.
        html = _body_part_of_type(msg, "html")
        if html is not None:
            body, text = html, _text_of(html)
    if body is None and isinstance(msg.get_payload(), str) and _content_type(msg).startswith("multipart/"):
        # A multipart without a usable boundary: its text is all there is.
        text = _text(_decode_bytes(_payload(msg), _charset(msg)))
    parsed.body = reply_text(text)
    for part, parent in _leaves(msg):
        if part is body:
            continue
        kind = _content_type(part)
        if parent == "multipart/signed" and kind in _SIGNATURES:
            continue
        name = _filename(part)
        disposition = _disposition(part)
        if kind.startswith("text/") and not name and disposition != "attachment":
            continue  # the other alternative of the body, or a stray text part
        if kind.startswith("multipart/") or (kind == "message/delivery-status" and not name):
            continue
        if kind in ("message/rfc822", "message/global"):
            data = _message_bytes(part)
            name = name or "message.eml"
        else:
            data = _payload(part)
            name = name or f"attachment-{len(parsed.attachments) + 1}{mimetypes.guess_extension(kind) or '.bin'}"
        parsed.attachments.append(InboundAttachment(filename=name, content_type=kind, data=data))


def _body_part_of_type(msg: Message, subtype: str) -> Message | None:
    try:
        return msg.get_body(preferencelist=(subtype,))  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        return None


def _collect_defects(msg: Message, parsed: ParsedMail) -> None:
    for part, _parent in [(msg, "")] + _leaves(msg):
        where = "" if part is msg else f" in a {_content_type(part)} part"
        for defect in getattr(part, "defects", []):
            detail = str(defect).strip()
            parsed.defects.append(f"{defect.__class__.__name__}{where}" + (f": {detail}" if detail else ""))


# --- HTML to text ------------------------------------------------------------------------------

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table",
    "tr", "ul",
}
_HIDDEN_TAGS = {"head", "script", "style", "title", "template"}


class _HTMLText(HTMLParser):
    """Text of an HTML body; lines inside <blockquote> start with ">" like quoted plain text, so
    the quoted history of an HTML reply is found the same way."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line = ""
        self.prefix = ""
        self.bullet = False
        self.quote = self.hidden = self.pre = 0

    def _break(self, tag: str = "") -> None:
        """End the current line; an empty one stays only where <br> or <p> make a blank line."""
        text = self.line.rstrip() if self.pre else self.line.strip()
        if text:
            self.lines.append(self.prefix + text)
        elif (tag in ("br", "p") or self.pre) and self.lines and self.lines[-1]:
            self.lines.append("")
        self.line, self.prefix = "", ""

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden += 1
        elif tag in _BLOCK_TAGS:
            self._break(tag)
            self.quote += tag == "blockquote"
            self.pre += tag == "pre"
            self.bullet = tag == "li"

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCK_TAGS:
            self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK_TAGS and tag != "br":
            self._break(tag)
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        pieces = data.split("\n") if self.pre else [re.sub(r"\s+", " ", data)]
        for number, piece in enumerate(pieces):
            if number:
                self._break()
            if not self.line.strip() and piece.strip():
                self.prefix = "> " * self.quote + ("- " if self.bullet else "")
                self.bullet = False
                piece = piece if self.pre else piece.lstrip()
            elif self.line.endswith(" ") and not self.pre:
                piece = piece.lstrip()
            self.line += piece


def html_to_text(html: str) -> str:
    """Readable text of an HTML body, tags removed."""
    parser = _HTMLText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - keep what was read before the parser gave up
        pass
    parser._break()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(parser.lines)).strip("\n")


def _unflow(text: str, delsp: bool) -> str:
    """Join the soft line breaks of format=flowed text (RFC 3676), keeping quote depth."""
    out: list[str] = []
    pending: tuple[int, str] | None = None
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]
        if pending is not None and pending[0] == depth:
            content = pending[1] + content
        elif pending is not None:
            out.append(_quoted(*pending))
        pending = None
        if content.endswith(" ") and content != "-- ":
            pending = (depth, content[:-1] if delsp else content)
        else:
            out.append(_quoted(depth, content))
    if pending is not None:
        out.append(_quoted(*pending))
    return "\n".join(out)


def _quoted(depth: int, content: str) -> str:
    return (">" * depth + " " + content) if depth else content


# --- the reply without its history ------------------------------------------------------------

# "On Mon, 1 Jan 2024 at 10:00, Ann <ann@example.com> wrote:" and its translations.
_ATTRIBUTION = re.compile(
    r"^(?:"
    r"On\s.+\swrote\s?:"
    r"|Am\s.+\sschrieb\b.*:"
    r"|Le\s.+\sa\s+[ée]crit\s?:"
    r"|Em\s.+\sescreveu\s?:"
    r"|El\s.+\sescribi[óo]\s?:"
    r"|Op\s.+\sschreef\b.*:"
    r"|Il\s.+\sha\s+scritto\s?:"
    r"|\d{4}年\d{1,2}月\d{1,2}日.*[:：]"
    r"|.*(?:書きました|のメール)\s?[:：]"
    r")\s*$",
    re.IGNORECASE,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{3,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|Mensagem original"
    r"|Mensaje original|Messaggio originale|Oorspronkelijk bericht|元のメッセージ)\s*-{3,}\s*$",
    re.IGNORECASE,
)
# Outlook's quoted header block: "From: …" followed by its other fields, in several languages.
_HEADER_FROM = re.compile(r"^\s*\*?(?:From|Von|De|Da|Van|差出人)\s?\*?\s?[:：]", re.IGNORECASE)
_HEADER_OTHER = re.compile(
    r"^\s*\*?(?:Sent|Date|To|Cc|Subject|Gesendet|Datum|An|Betreff|Envoyé|À|Objet|Enviada em|Enviado"
    r"|Data|Para|Assunto|Fecha|Asunto|Inviato|Oggetto|Verzonden|Aan|Onderwerp|送信日時|日付|宛先|件名)"
    r"\s?\*?\s?[:：]",
    re.IGNORECASE,
)
_FORWARDED = re.compile(r"forwarded message|weitergeleitete nachricht|message transféré|mensagem encaminhada", re.I)
_SEPARATOR = re.compile(r"^\s*(?:_{5,}|-{5,})\s*$")


def _outlook_history(lines: list[str]) -> int | None:
    """Index of the first line of Outlook's quoted history, or None."""
    for index, line in enumerate(lines):
        if _ORIGINAL_MESSAGE.match(line):
            return index
        if _HEADER_FROM.match(line):
            following = [x for x in lines[index + 1 : index + 8] if x.strip()][:5]
            if sum(1 for x in following if _HEADER_OTHER.match(x)) >= 2:
                before = [x for x in lines[:index] if x.strip()]
                if before and _FORWARDED.search(before[-1]):
                    return None  # a forward: what follows is the content
                start = index
                if before and _SEPARATOR.match(before[-1]):
                    start = max(i for i, x in enumerate(lines[:index]) if x.strip())
                return start
    return None


def reply_text(text: str) -> str:
    """The new text of a reply: cut at the reply marker and at Outlook's history, then drop the
    trailing quoted lines and the "On … wrote:" line that introduces them."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # Our notice quoted below the reply: what introduces the quote is an attribution, date or not.
    quoted_notice = False
    for index, line in enumerate(lines):
        if REPLY_MARKER in line:
            quoted_notice = line.lstrip().startswith(">")
            lines = lines[:index]
            break
    cut = _outlook_history(lines)
    if cut is not None:
        lines = lines[:cut]
    while True:
        while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
            lines.pop()
        for size in (1, 2, 3):
            tail = " ".join(x.strip() for x in lines[-size:])
            # Every mail program puts a date or time in it; "On second thought … wrote:" has none.
            if len(lines) >= size and _ATTRIBUTION.match(tail) and (quoted_notice or re.search(r"\d", tail)):
                del lines[-size:]
                break
        else:
            break
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(line.rstrip() for line in lines)
