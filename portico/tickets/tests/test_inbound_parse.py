"""Reading inbound replies (TK-7): threading ids, the sender, automatic replies, the reply without
its quoted history, attachments, and malformed mail that is read as far as it goes, never raising."""

from __future__ import annotations

import base64
import functools
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.tickets.inbound import REPLY_MARKER, ParsedMail, parse_message, reply_text


def mail(body: str = "Thanks, that fixed it.", *, subtype: str = "plain", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Olivia User <olivia@contoso.test>")
    message["To"] = "support@northwind.test"
    message["Subject"] = headers.pop("Subject", "Re: [Ticket#42] Printer on fire")
    message["Message-ID"] = headers.pop("Message_ID", "<reply-1@contoso.test>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body, subtype=subtype)
    return message


def raw(message: EmailMessage) -> bytes:
    if message.is_multipart():
        for number, part in enumerate(message.walk()):
            if part.is_multipart():
                part.set_boundary(f"==boundary-{number}==")
    return message.as_bytes()


def assert_storable(parsed: ParsedMail) -> None:
    """Every text field can go into PostgreSQL as it is: UTF-8 and no NUL."""
    texts = [parsed.message_id, parsed.sender, parsed.sender_name, parsed.subject, parsed.auto_reply_reason, parsed.body]
    texts += parsed.in_reply_to + parsed.references + parsed.defects
    texts += [a.filename for a in parsed.attachments] + [a.content_type for a in parsed.attachments]
    for text in texts:
        assert isinstance(text, str)
        assert "\x00" not in text
        text.encode("utf-8")
    assert all(isinstance(a.data, bytes) for a in parsed.attachments)
    assert parsed.ticket_number is None or 0 < parsed.ticket_number < 2**63


# --- threading ---------------------------------------------------------------------------------


def test_tk7_threading_ids_come_without_brackets_in_order():
    parsed = parse_message(
        b"From: olivia@contoso.test\r\nMessage-ID: <reply-1@contoso.test>\r\n"
        b"In-Reply-To: <notice-2@northwind.test>\r\n"
        b"References: <ticket-42@northwind.test>\r\n <notice-1@northwind.test>\r\n\t<notice-2@northwind.test>\r\n\r\nok\r\n"
    )
    assert parsed.message_id == "reply-1@contoso.test"
    assert parsed.in_reply_to == ["notice-2@northwind.test"]
    assert parsed.references == ["ticket-42@northwind.test", "notice-1@northwind.test", "notice-2@northwind.test"]


def test_tk7_threading_ids_without_brackets_and_with_comments_are_found():
    message = raw(mail(Message_ID="bare-id@contoso.test", In_Reply_To="Your message of Monday <a@b.test> (x)"))
    parsed = parse_message(message)
    assert parsed.message_id == "bare-id@contoso.test"
    assert parsed.in_reply_to == ["a@b.test"]


def test_tk7_subject_token_names_the_ticket():
    assert parse_message(raw(mail(Subject="AW: Re: [Ticket#123] Drucker"))).ticket_number == 123
    assert parse_message(raw(mail(Subject="RE: [ticket #7] lowercase and spaced"))).ticket_number == 7
    assert parse_message(raw(mail(Subject="Printer on fire"))).ticket_number is None
    assert parse_message(raw(mail(Subject="[Ticket#0] zero is no ticket"))).ticket_number is None


def test_tk7_encoded_subject_is_decoded_and_keeps_its_token():
    message = b"From: a@contoso.test\r\nSubject: =?utf-8?q?Re=3A_=5BTicket=2399=5D_Dr=C3=BCcker?=\r\n\r\nok\r\n"
    parsed = parse_message(message)
    assert parsed.subject == "Re: [Ticket#99] Drücker"
    assert parsed.ticket_number == 99


# --- the sender --------------------------------------------------------------------------------


def test_tk7_sender_is_the_lower_cased_from_address_and_reply_to_is_not_trusted():
    parsed = parse_message(raw(mail(From="=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen@Contoso.TEST>",
                                    Reply_To="attacker@evil.test")))
    assert parsed.sender == "juergen@contoso.test"
    assert parsed.sender_name == "Jürgen Müller"


@pytest.mark.parametrize("from_lines", [
    b"From: olivia@contoso.test, mallory@evil.test\r\n",
    b"From: olivia@contoso.test\r\nFrom: mallory@evil.test\r\n",
])
def test_tk7_two_senders_make_no_sender(from_lines):
    parsed = parse_message(from_lines + b"Subject: [Ticket#1] x\r\n\r\nhello\r\n")
    assert parsed.sender == ""
    assert "The message names more than one sender in From." in parsed.defects


@pytest.mark.parametrize("from_line", [b"", b"From: \r\n", b"From: not an address\r\n", b"From: undisclosed-recipients:;\r\n"])
def test_tk7_missing_or_unreadable_from_is_no_sender(from_line):
    parsed = parse_message(from_line + b"Subject: hi\r\n\r\nhello\r\n")
    assert parsed.sender == ""
    assert parsed.body == "hello"


# --- automatic replies -------------------------------------------------------------------------


@pytest.mark.parametrize("header, value, reason", [
    ("Auto-Submitted", "auto-replied", "Auto-Submitted: auto-replied"),
    ("Auto-Submitted", "auto-generated; owner-email=x@y.test", "Auto-Submitted: auto-generated"),
    ("Precedence", "bulk", "Precedence: bulk"),
    ("Precedence", "list", "Precedence: list"),
    ("Precedence", "junk", "Precedence: junk"),
    ("Precedence", "auto_reply", "Precedence: auto_reply"),
    ("X-Auto-Response-Suppress", "All", "X-Auto-Response-Suppress: All"),
    ("X-Auto-Response-Suppress", "DR, OOF", "X-Auto-Response-Suppress"),
    ("X-Autoreply", "yes", "X-Autoreply: yes"),
    ("X-Autorespond", "Out of office", "X-Autorespond"),
    ("Return-Path", "<>", "Return-Path: <>"),
])
def test_tk7_automatic_replies_are_recognised(header, value, reason):
    parsed = parse_message(raw(mail(**{header.replace("-", "_"): value})))
    assert parsed.auto_reply_reason.startswith(reason)


def test_tk7_empty_return_path_is_a_bounce():
    message = b"Return-Path: \r\nFrom: MAILER-DAEMON@contoso.test\r\nSubject: Undelivered\r\n\r\nsorry\r\n"
    assert parse_message(message).auto_reply_reason == "Return-Path: <> (a bounce)"


def test_tk7_delivery_reports_are_automatic():
    report = (
        b"From: postmaster@contoso.test\r\nSubject: Delivery Status Notification (Failure)\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
        b"--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.contoso.test\r\n--r--\r\n"
    )
    parsed = parse_message(report)
    assert parsed.auto_reply_reason == "Content-Type: multipart/report; report-type=delivery-status"
    assert parsed.attachments == []


@pytest.mark.parametrize("headers", [
    {},
    {"Auto_Submitted": "no"},
    {"Precedence": "first-class"},
    {"Return_Path": "<olivia@contoso.test>"},
])
def test_tk7_human_replies_are_not_automatic(headers):
    assert parse_message(raw(mail(**headers))).auto_reply_reason == ""


# --- the reply without its history -------------------------------------------------------------

QUOTED = f"""> {REPLY_MARKER}
> Hello Olivia, we restarted the spooler.
> Northwind IT"""


@pytest.mark.parametrize("attribution", [
    "On Mon, Jan 1, 2024 at 10:00 AM Northwind IT <support@northwind.test> wrote:",
    "On 01/01/2024 10:00, Northwind IT wrote:",
    "Am 01.01.2024 um 10:00 schrieb Northwind IT <support@northwind.test>:",
    "Le lun. 1 janv. 2024 à 10:00, Northwind IT <support@northwind.test> a écrit :",
    "Em seg., 1 de jan. de 2024 às 10:00, Northwind IT <support@northwind.test> escreveu:",
    "2024年1月1日(月) 10:00 Northwind IT <support@northwind.test>:",
])
def test_tk7_quoted_history_and_its_attribution_are_cut(attribution):
    parsed = parse_message(raw(mail(f"Danke, es geht wieder.\n\nOlivia\n\n{attribution}\n{QUOTED}\n")))
    assert parsed.body == "Danke, es geht wieder.\n\nOlivia"


def test_tk7_attribution_wrapped_over_two_lines_is_cut():
    body = "Works now.\n\nOn Mon, Jan 1, 2024 at 10:00 AM Northwind IT <\nsupport@northwind.test> wrote:\n" + QUOTED
    assert parse_message(raw(mail(body))).body == "Works now."


def test_tk7_everything_from_the_reply_marker_down_is_cut_even_unquoted():
    body = f"Top answer.\n{REPLY_MARKER}\nThe old notice\nwith more lines"
    assert parse_message(raw(mail(body))).body == "Top answer."


def test_tk7_interleaved_answers_keep_their_quotes_and_only_the_trailing_quote_goes():
    body = "> Which printer?\nThe one on floor 2.\n> Since when?\nThis morning.\n\n> Regards\n> Northwind IT\n"
    assert parse_message(raw(mail(body))).body == "> Which printer?\nThe one on floor 2.\n> Since when?\nThis morning."


def test_tk7_a_sentence_that_only_looks_like_an_attribution_stays():
    body = "On second thought, ignore what Carl wrote:"
    assert parse_message(raw(mail(body))).body == body


@pytest.mark.parametrize("history", [
    "-----Original Message-----\nFrom: Northwind IT\nSent: Monday, January 1, 2024 10:00\nTo: Olivia\nSubject: [Ticket#42]",
    "-----Ursprüngliche Nachricht-----\nVon: Northwind IT\nGesendet: Montag, 1. Januar 2024 10:00",
    "________________________________\nFrom: Northwind IT <support@northwind.test>\nSent: Monday, January 1, 2024 10:00\n"
    "To: Olivia <olivia@contoso.test>\nSubject: [Ticket#42] Printer on fire\n\nHello Olivia,",
    "Von: Northwind IT <support@northwind.test>\nGesendet: Montag, 1. Januar 2024 10:00\nAn: Olivia\nBetreff: Drucker",
    "De : Northwind IT\nEnvoyé : lundi 1 janvier 2024 10:00\nÀ : Olivia\nObjet : Imprimante",
])
def test_tk7_outlook_history_is_cut(history):
    assert parse_message(raw(mail(f"Fixed, thanks.\n\n{history}\nold text\n"))).body == "Fixed, thanks."


def test_tk7_a_forwarded_message_is_content_not_history():
    body = ("See the vendor's answer below.\n\n---------- Forwarded message ---------\nFrom: Vendor <v@vendor.test>\n"
            "Date: Mon, 1 Jan 2024\nSubject: Toner\nTo: Olivia\n\nToner ships Monday.")
    assert "Toner ships Monday." in parse_message(raw(mail(body))).body


def test_tk7_html_only_mail_gives_its_text_without_tags_or_history():
    html = (
        "<html><head><style>p { color: red }</style><script>alert(1)</script></head><body>"
        "<div dir='ltr'>It works again &amp; thanks!<br>Olivia<ul><li>printer</li><li>scanner</li></ul></div>"
        "<div class='gmail_quote'><div class='gmail_attr'>On Mon, Jan 1, 2024 at 10:00 AM Northwind IT "
        "&lt;support@northwind.test&gt; wrote:<br></div><blockquote class='gmail_quote'>"
        f"<p>{REPLY_MARKER}</p><p>Hello <b>Olivia</b></p></blockquote></div></body></html>"
    )
    parsed = parse_message(raw(mail(html, subtype="html")))
    assert parsed.body == "It works again & thanks!\nOlivia\n- printer\n- scanner"


def test_tk7_html_outlook_reply_loses_its_header_block():
    html = ("<div>Done.</div><hr><div id='divRplyFwdMsg'><b>From:</b> Northwind IT<br><b>Sent:</b> Monday<br>"
            "<b>To:</b> Olivia<br><b>Subject:</b> [Ticket#42]</div><div>old notice</div>")
    assert parse_message(raw(mail(html, subtype="html"))).body == "Done."


def test_tk7_plain_text_is_preferred_and_an_empty_plain_part_falls_back_to_html():
    message = mail("Plain words.")
    message.add_alternative("<p>HTML words.</p>", subtype="html")
    assert parse_message(raw(message)).body == "Plain words."
    empty = mail(" ")
    empty.add_alternative("<p>HTML words.</p>", subtype="html")
    assert parse_message(raw(empty)).body == "HTML words."


def test_tk7_format_flowed_lines_are_joined():
    message = (b"From: olivia@contoso.test\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\n\r\n"
               b"This is one long line that the \r\nmail program wrapped.\r\n\r\n> quoted \r\n> history\r\n")
    assert parse_message(message).body == "This is one long line that the mail program wrapped."


# --- attachments -------------------------------------------------------------------------------


def test_tk7_attachments_are_kept_decoded_with_their_names():
    message = mail("See attached.")
    message.add_attachment(b"%PDF-1.4 \x00\xff", maintype="application", subtype="pdf", filename="Rechnung Mai.pdf")
    message.add_attachment("a,b\n1,2\n", subtype="csv", filename="data.csv")
    parsed = parse_message(raw(message))
    assert parsed.body == "See attached."
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("Rechnung Mai.pdf", "application/pdf"), ("data.csv", "text/csv"),
    ]
    assert parsed.attachments[0].data == b"%PDF-1.4 \x00\xff"
    assert parsed.attachments[1].data == b"a,b\n1,2\n"


def test_tk7_attachment_name_in_rfc2231_with_continuations_is_decoded():
    message = (
        b"From: olivia@contoso.test\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nScan attached.\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment;\r\n filename*0*=utf-8''Gr%C3%BC%C3%9Fe%20aus;\r\n filename*1*=%20K%C3%B6ln.pdf\r\n\r\n"
        + base64.b64encode(b"%PDF scan") + b"\r\n--b--\r\n"
    )
    parsed = parse_message(message)
    assert [(a.filename, a.data) for a in parsed.attachments] == [("Grüße aus Köln.pdf", b"%PDF scan")]


def test_tk7_attachment_name_in_rfc2047_is_decoded_and_kept_as_given():
    message = (
        b"From: olivia@contoso.test\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b'--b\r\nContent-Type: application/octet-stream; name="=?utf-8?q?..=2F..=2Fb=C3=A9rlin.txt?="\r\n'
        b'Content-Disposition: attachment; filename="=?utf-8?q?..=2F..=2Fb=C3=A9rlin.txt?="\r\n\r\ndata\r\n--b--\r\n'
    )
    assert parse_message(message).attachments[0].filename == "../../bérlin.txt"


def test_tk7_inline_images_and_attached_messages_are_attachments_and_signatures_are_not():
    message = mail("Screenshot inline.")
    message.add_related(b"\x89PNG\r\n\x1a\n", maintype="image", subtype="png", cid="<img1@contoso.test>")
    message.add_attachment(mail("the original"), filename=None)
    parsed = parse_message(raw(message))
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("attachment-1.png", "image/png"), ("message.eml", "message/rfc822"),
    ]
    assert parsed.attachments[0].data == b"\x89PNG\r\n\x1a\n"
    assert b"the original" in parsed.attachments[1].data
    signed = (b"From: olivia@contoso.test\r\nContent-Type: multipart/signed; protocol=\"application/pgp-signature\"; "
              b"boundary=s\r\n\r\n--s\r\nContent-Type: text/plain\r\n\r\nsigned words\r\n--s\r\n"
              b"Content-Type: application/pgp-signature; name=signature.asc\r\n\r\n-----BEGIN PGP SIGNATURE-----\r\n--s--\r\n")
    parsed = parse_message(signed)
    assert (parsed.body, parsed.attachments) == ("signed words", [])


# --- malformed mail: read as far as it goes, never raise ---------------------------------------


def test_tk7_no_message_id_is_empty_and_named():
    message = b"From: olivia@contoso.test\r\nSubject: [Ticket#42] hi\r\n\r\nhello\r\n"
    parsed = parse_message(message)
    assert parsed.message_id == ""
    assert "The message has no Message-ID." in parsed.defects
    assert (parsed.sender, parsed.ticket_number, parsed.body) == ("olivia@contoso.test", 42, "hello")


def test_tk7_multipart_without_boundary_keeps_its_text():
    message = b"From: olivia@contoso.test\r\nContent-Type: multipart/mixed\r\n\r\nStill readable.\r\n"
    parsed = parse_message(message)
    assert parsed.body == "Still readable."
    assert any(d.startswith("NoBoundaryInMultipartDefect") for d in parsed.defects)


def test_tk7_bad_base64_is_kept_and_named():
    message = (b"From: olivia@contoso.test\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
               b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%not base64!!\r\n"
               b"--b\r\nContent-Type: image/png; name=x.png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=x\r\n")
    parsed = parse_message(message)
    assert_storable(parsed)
    assert [a.filename for a in parsed.attachments] == ["x.png"]
    assert any("Base64" in d for d in parsed.defects)
    assert any("CloseBoundaryNotFoundDefect" in d for d in parsed.defects)


def test_tk7_eight_bit_headers_are_read_as_utf8_or_windows_1252():
    utf8 = b"From: J\xc3\xbcrgen <juergen@contoso.test>\r\nSubject: [Ticket#5] Dr\xc3\xbccker\r\n\r\nok\r\n"
    latin = b"From: J\xfcrgen <juergen@contoso.test>\r\nSubject: [Ticket#5] Dr\xfccker\r\n\r\nok\r\n"
    for message in (utf8, latin):
        parsed = parse_message(message)
        assert_storable(parsed)
        assert (parsed.sender, parsed.ticket_number) == ("juergen@contoso.test", 5)
        assert "cker" in parsed.subject


def test_tk7_unknown_charsets_nul_and_control_characters_give_storable_text():
    message = (b"From: olivia@contoso.test\r\nSubject: =?x-klingon?q?caf=E9?= \x00 \x1b[31m\r\n"
               b"Content-Type: text/plain; charset=x-klingon\r\n\r\nnul\x00here caf\xe9\r\n")
    parsed = parse_message(message)
    assert_storable(parsed)
    assert parsed.body == "nulhere café"


@pytest.mark.parametrize("message", [
    b"",
    b"\r\n\r\n",
    b"\x00" * 100,
    b"\xff\xfe\xfd garbage \x80\x81",
    b"no headers at all, just text",
    b"From: <>\r\nMessage-ID: <>\r\nIn-Reply-To: <<<>>>\r\nReferences: <\r\n\r\n",
    b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--\r\n",
    b"Content-Type: text/plain; charset=\"utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=\r\n",
    b"Content-Type: message/rfc822\r\n\r\nnot a message",
    b"Content-Type: text/html\r\n\r\n<div><blockquote><<<</script><!-- ",
    b"Content-Type: multipart/mixed; boundary=a\r\n\r\n" + b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * 200,
    b"Subject: " + b"=?utf-8?b?" * 1000 + b"\r\n\r\n",
    b"From: " + b"a" * 100_000 + b"@x.test\r\n\r\n",
])
def test_tk7_broken_mail_never_raises(message):
    assert_storable(parse_message(message))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_tk7_arbitrary_bytes_never_raise(data):
    assert_storable(parse_message(data))


@functools.cache
def _real_messages() -> list[bytes]:
    rich = mail("Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM Support wrote:\n> old", In_Reply_To="<n-1@northwind.test>")
    rich.add_alternative("<p>Thanks!</p><blockquote>old</blockquote>", subtype="html")
    rich.add_attachment(b"\x89PNG\r\n\x1a\n" * 20, maintype="image", subtype="png", filename="Grüße.png")
    rich.add_attachment(mail("inner"), filename="inner.eml")
    auto = mail("I am out of office.", Auto_Submitted="auto-replied", Subject="=?utf-8?q?Abwesend=3A_Re=3A_=5BTicket=2342=5D?=")
    return [raw(rich), raw(auto), raw(mail("<p>Only <b>html</b></p>", subtype="html"))]


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(_real_messages())))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"]))
        if action == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.sampled_from([b"\r\n", b"--", b"=?", b"?=", b"<", b">", b";", b"\"", b"\x00", b"\xff",
                                                 b"Content-Type: multipart/mixed; boundary=x\r\n", b"\r\n--x\r\n"]))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 200))]
        elif action == "truncate":
            del data[at:]
        else:
            data[at:at] = data[max(0, at - 300) : at]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_tk7_mutated_real_messages_never_raise(data):
    assert_storable(parse_message(data))


def test_tk7_real_messages_read_cleanly():
    rich, auto, html = (parse_message(m) for m in _real_messages())
    assert (rich.body, rich.in_reply_to, [a.filename for a in rich.attachments]) == (
        "Thanks!", ["n-1@northwind.test"], ["Grüße.png", "inner.eml"],
    )
    assert (auto.auto_reply_reason, auto.ticket_number) == ("Auto-Submitted: auto-replied", 42)
    assert html.body == "Only html"


def test_tk7_attribution_without_a_date_is_cut_when_our_notice_is_quoted_below_it():
    text = "Works now.\n\nOn Monday, Support wrote:\n> ## Reply above this line ##\n> Support replied:\n"
    assert reply_text(text) == "Works now."
    assert reply_text("On second thought it wrote: nothing.\n") == "On second thought it wrote: nothing."
