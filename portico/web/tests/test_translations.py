"""Every page, email and error message in the person's display language (ID-11).

The catalogs in locale/<lang>/LC_MESSAGES/django.po are read with a small parser (standard
library only); the pages and the invitation email are checked through the real stack.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from portico.identity.services import InviteRequest, invite
from tests.support import sign_in, text_body

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
# Directory name of each translated language's catalog → the language code the pages speak.
CATALOGS = {"pt_BR": "pt-br", "ja": "ja", "de": "de", "fr": "fr"}
NPLURALS = {"pt_BR": 2, "ja": 1, "de": 2, "fr": 2}

# Python-format placeholders: %(name)s, %(count)d, %s, %d … ("%%" is a literal percent sign).
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGcou]")


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Test code outside a request speaks the default language, and leaves no language behind."""
    translation.deactivate()
    yield
    translation.deactivate()


# ---------------------------------------------------------------- a tiny .po parser


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def forms(self) -> list[str]:
        if self.msgid_plural is not None:
            return [self.msgstr_plural[i] for i in sorted(self.msgstr_plural)]
        return [self.msgstr]


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file, header included (msgid ""); obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None

    def finish():
        nonlocal current, target
        if current is not None:
            entries.append(current)
        current, target = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if current is not None and target is not None:
                finish()  # a comment after a complete entry starts the next one
            if line.startswith("#,"):
                current = current or Entry()
                current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.startswith('"'):
            assert current is not None and target is not None, f"{path}:{number}: stray string"
            name, index = target
            value = _unquote(line)
            if name == "msgstr_plural":
                current.msgstr_plural[index] += value
            else:
                setattr(current, name, getattr(current, name) + value)
            continue
        if keyword in ("msgctxt", "msgid") and target is not None and target[0].startswith("msgstr"):
            finish()  # a new entry without a blank line before it
        current = current or Entry()
        match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if match:
            index = int(match.group(1))
            current.msgstr_plural[index] = _unquote(rest)
            target = ("msgstr_plural", index)
        elif keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
            setattr(current, keyword, _unquote(rest))
            target = (keyword, None)
        else:
            raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    finish()
    return entries


def catalog(directory: str) -> tuple[dict[str, str], list[Entry], Entry]:
    path = LOCALE_DIR / directory / "LC_MESSAGES" / "django.po"
    assert path.exists(), f"{path} is missing; run makemessages"
    entries = parse_po(path)
    [header] = [e for e in entries if e.msgid == "" and e.msgctxt is None]
    meta = dict(line.split(": ", 1) for line in header.msgstr.splitlines() if ": " in line)
    return meta, [e for e in entries if e is not header], header


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text.replace("%%", "")))


# ---------------------------------------------------------------- catalogs


@pytest.mark.parametrize("directory", CATALOGS)
def test_id11_every_message_translated_in_every_language(directory):
    meta, entries, header = catalog(directory)
    assert "fuzzy" not in header.flags, "the header is still marked fuzzy"
    assert meta.get("Language") == directory
    assert "charset=UTF-8" in meta.get("Content-Type", "")
    assert meta.get("Plural-Forms", "").startswith(f"nplurals={NPLURALS[directory]};")
    assert len(entries) > 100, "the catalog looks empty; run makemessages"

    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    untranslated = [e.msgid for e in entries if not all(form.strip() for form in e.forms)]
    wrong_plurals = [
        e.msgid
        for e in entries
        if e.msgid_plural is not None and sorted(e.msgstr_plural) != list(range(NPLURALS[directory]))
    ]
    assert not fuzzy, f"{directory}: fuzzy entries: {fuzzy}"
    assert not untranslated, f"{directory}: untranslated entries: {untranslated}"
    assert not wrong_plurals, f"{directory}: plural forms do not match nplurals: {wrong_plurals}"

    # Real translations, not English copies: only the odd word (API, Code, Menu …) may read the same.
    copies = [e.msgid for e in entries if e.msgid_plural is None and e.msgstr == e.msgid]
    assert len(copies) <= len(entries) * 0.1, f"{directory}: too many msgstr equal to the English msgid: {copies}"


def test_id11_every_language_has_the_same_messages():
    ids = {d: {(e.msgctxt, e.msgid) for e in catalog(d)[1]} for d in CATALOGS}
    reference = ids["de"]
    for directory, messages in ids.items():
        assert messages == reference, f"{directory} differs: {sorted(messages ^ reference)[:10]}"


@pytest.mark.parametrize("directory", CATALOGS)
def test_id11_placeholders_kept(directory):
    _, entries, _ = catalog(directory)
    problems = []
    for e in entries:
        singular = placeholders(e.msgid)
        if e.msgid_plural is None:
            if placeholders(e.msgstr) != singular:
                problems.append((e.msgid, e.msgstr))
            same_edges = (e.msgid[:1] == "\n") == (e.msgstr[:1] == "\n") and (e.msgid[-1:] == "\n") == (
                e.msgstr[-1:] == "\n"
            )
            if not same_edges:
                problems.append((e.msgid, "leading/trailing newline differs"))
            continue
        plural = placeholders(e.msgid_plural)
        for index, form in e.msgstr_plural.items():
            # The form for "one" may leave out the count ("One more account"); every other form
            # (and a language's only form) carries exactly the plural's placeholders.
            if index == 0 and NPLURALS[directory] > 1:
                ok = singular - plural <= placeholders(form) <= singular | plural
            else:
                ok = placeholders(form) == plural
            if not ok:
                problems.append((e.msgid, form))
    assert not problems, f"{directory}: placeholders changed: {problems}"

    msgfmt = shutil.which("msgfmt")
    if msgfmt:  # gettext's own format check, as compilemessages runs it
        path = LOCALE_DIR / directory / "LC_MESSAGES" / "django.po"
        result = subprocess.run(
            [msgfmt, "--check-format", "--check-header", "-o", "/dev/null", str(path)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr


def test_id11_compiled_catalogs_match_the_po_files():
    """The .mo files Django reads (built by `make messages`) hold what the .po files say."""
    for directory in CATALOGS:
        po = LOCALE_DIR / directory / "LC_MESSAGES" / "django.po"
        mo = po.with_suffix(".mo")
        assert mo.exists(), f"{mo} is missing; run compilemessages"
        with mo.open("rb") as handle:
            compiled = gettext.GNUTranslations(handle)._catalog
        stale = []
        for e in catalog(directory)[1]:
            key = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
            if e.msgid_plural is None:
                if compiled.get(key) != e.msgstr:
                    stale.append(e.msgid)
            elif any(compiled.get((key, i)) != form for i, form in e.msgstr_plural.items()):
                stale.append(e.msgid)
        assert not stale, f"{mo} is out of date (run compilemessages): {stale[:10]}"


# ---------------------------------------------------------------- pages

PORTAL = {
    "de": ["Meine Geräte", "Dateien wiederherstellen", "Willkommen, Emma", "Endbenutzerportal von Contoso"],
    "ja": ["マイデバイス", "ファイルの復元", "ようこそ、Emma さん", "Contoso のエンドユーザーポータル"],
    "pt-br": ["Meus dispositivos", "Restaurar arquivos", "Boas-vindas, Emma", "Portal do usuário final de Contoso"],
    "fr": ["Mes appareils", "Restaurer des fichiers", "Bienvenue, Emma", "Portail utilisateur de Contoso"],
}
PORTAL_ENGLISH = ["My devices", "Restore files", "Welcome, Emma", "End-user portal of", "Sign out", "Switch account"]

# The sign-in page: its heading and button, the password field, the language switch's label and
# the note on how accounts are made.
SIGN_IN = {
    "de": ["Anmelden", "Passwort", "Sprache", "Neu bei Portico?"],
    "ja": ["サインイン", "パスワード", "言語", "Portico を初めてご利用の方へ"],
    "pt-br": ["Entrar", "Senha", "Idioma", "Novo no Portico?"],
    "fr": ["Se connecter", "Mot de passe", "Langue", "Nouveau sur Portico ?"],
}
SIGN_IN_ENGLISH = ["Sign In", "Sign in", "Password", "Forgot your password", "Forgot password", "New to Portico"]


def visible_text(html: str) -> str:
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def html_lang(html: str) -> str | None:
    match = re.search(r"<html\b[^>]*\blang=\"([^\"]+)\"", html)
    return match.group(1) if match else None


@pytest.mark.django_db
@pytest.mark.parametrize("language", PORTAL)
def test_id11_pages_in_the_persons_language(client, user_org, language):
    person = user_org.person
    person.language = language
    person.save(update_fields=["language"])

    sign_in(client, user_org)
    response = client.get("/portal/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html_lang(html) == language
    text = visible_text(html)
    for expected in PORTAL[language]:
        assert expected in text, f"{expected!r} missing from the {language} portal"
    for english in PORTAL_ENGLISH:
        assert english not in text, f"English {english!r} on the {language} portal"


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["cookie", "accept-language"])
@pytest.mark.parametrize("language", SIGN_IN)
def test_id11_sign_in_page_in_the_chosen_language(client, language, how):
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.get("/accounts/login/")
    else:
        response = client.get("/accounts/login/", headers={"accept-language": f"{language},en;q=0.5"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html_lang(html) == language
    text = visible_text(html)
    for expected in SIGN_IN[language]:
        assert expected in text, f"{expected!r} missing from the {language} sign-in page: {text}"
    for english in SIGN_IN_ENGLISH:
        assert english not in text, f"English {english!r} on the {language} sign-in page"


# ---------------------------------------------------------------- email


@pytest.mark.django_db(transaction=True)
def test_id11_invitation_email_in_recipients_language(admin, org_a, mailbox):
    """An admin working in English invites a person whose display language is French."""
    invite(
        admin,
        InviteRequest(email="lea@contoso.test", first_name="Léa", kind="end_user", organization=org_a, language="fr"),
    )
    [message] = mailbox.wait_for("lea@contoso.test")

    assert " ".join(str(message["Subject"]).split()) == "Invitation à rejoindre Portico : Contoso · Utilisateur final"
    body = text_body(message)
    for french in (
        "Bonjour Léa,",
        f"{admin.person.full_name} vous a donné accès à Contoso · Utilisateur final dans Portico.",
        "Accepter l’invitation: ",
        "Le lien ne fonctionne qu’une seule fois et expire au bout de 24 heures.",
    ):
        assert french in body, f"{french!r} missing from: {body}"
    for english in ("Hello", "has given you access", "Accept invitation", "expires after 24 hours", "End user"):
        assert english not in body

    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Accepter l’invitation" in html
    assert "Accept invitation" not in html
