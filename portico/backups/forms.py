"""Forms of device backups: the technician's policy (FR-1) and a restore's choices (FR-2, FR-3)."""

from __future__ import annotations

import posixpath
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.backups.models import BackupPolicy, Conflict

MAX_PATHS = 100
MAX_EXCLUSIONS = 200
WINDOWS_PATH = re.compile(r"[A-Za-z]:\\[^\x00]*")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def is_absolute_path(path: str) -> bool:
    """An absolute, tidy path of the device: `/home/ana` (no `.` or `..`), or `C:\\Users\\ana`."""
    if "\x00" in path:
        return False
    if path.startswith("/"):
        return posixpath.normpath(path) == path.rstrip("/") or path == "/"
    return bool(WINDOWS_PATH.fullmatch(path)) and "\\..\\" not in path + "\\"


class PolicyForm(forms.ModelForm):
    paths_text = forms.CharField(
        label=_("Folders to back up"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One full path a line, such as /home or C:\\Users."),
    )
    exclude_text = forms.CharField(
        label=_("Exclusions"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One pattern a line, such as *.tmp or /home/*/.cache."),
    )

    class Meta:
        model = BackupPolicy
        fields = ["interval_hours", "start_time", "keep_last", "keep_daily", "keep_weekly", "keep_monthly"]
        widgets = {"start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}
        help_texts = {"start_time": _("The first backup of each day starts at this time (server time).")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("paths_text", "\n".join(self.instance.paths))
            self.initial.setdefault("exclude_text", "\n".join(self.instance.exclude))
        for name in ("keep_last", "keep_daily", "keep_weekly", "keep_monthly"):
            self.fields[name].widget.attrs.update({"min": 0, "max": 1000})
            self.fields[name].validators.append(_at_most_1000)

    def clean_paths_text(self) -> list[str]:
        paths = list(dict.fromkeys(_lines(self.cleaned_data["paths_text"])))
        if not paths:
            raise forms.ValidationError(_("Name at least one folder."))
        if len(paths) > MAX_PATHS:
            raise forms.ValidationError(_("At most %(count)s folders.") % {"count": MAX_PATHS})
        wrong = [path for path in paths if not is_absolute_path(path)]
        if wrong:
            raise forms.ValidationError(
                _("Not a full path without . or ..: %(paths)s") % {"paths": ", ".join(p[:200] for p in wrong[:3])}
            )
        return paths

    def clean_exclude_text(self) -> list[str]:
        patterns = list(dict.fromkeys(_lines(self.cleaned_data.get("exclude_text") or "")))
        if len(patterns) > MAX_EXCLUSIONS:
            raise forms.ValidationError(_("At most %(count)s exclusions.") % {"count": MAX_EXCLUSIONS})
        if any(len(pattern) > 500 or "\x00" in pattern for pattern in patterns):
            raise forms.ValidationError(_("An exclusion is at most 500 characters."))
        return patterns

    def clean(self) -> dict:
        cleaned = super().clean()
        keeps = [cleaned.get(name) for name in ("keep_last", "keep_daily", "keep_weekly", "keep_monthly")]
        if all(value is not None for value in keeps) and not any(keeps):
            raise forms.ValidationError(_("Keep at least one snapshot: set one of the numbers to keep above 0."))
        return cleaned


def _at_most_1000(value: int) -> None:
    if value > 1000:
        raise forms.ValidationError(_("At most 1,000."))


class RestoreForm(forms.Form):
    DESTINATIONS = [("original", _("To their original place")), ("folder", _("To another folder on the device"))]

    paths = forms.MultipleChoiceField(label=_("Files and folders"), error_messages={
        "required": _("Choose at least one file or folder."),
    })
    destination = forms.ChoiceField(label=_("Restore"), choices=DESTINATIONS, initial="original",
                                    widget=forms.RadioSelect)
    target = forms.CharField(label=_("Folder"), required=False, max_length=4096,
                             widget=forms.TextInput(attrs={"placeholder": "/home/ana/Restored"}))
    conflict = forms.ChoiceField(label=_("Where a file of the same name exists"), choices=Conflict.choices,
                                 initial=Conflict.KEEP_BOTH, widget=forms.RadioSelect)

    def __init__(self, *args, choices: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Any path of the snapshot may be chosen (search results too); the service checks each.
        self.fields["paths"].choices = [(path, path) for path in choices]
        self.fields["paths"].valid_value = lambda value: isinstance(value, str) and 0 < len(value) <= 4096

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("destination") == "folder":
            target = (cleaned.get("target") or "").strip()
            if not target:
                self.add_error("target", _("Name the folder to restore into."))
            elif not target.startswith("/") or not is_absolute_path(target):
                self.add_error("target", _("The folder must be a full path without . or .., like /home/ana/Restored."))
            cleaned["target"] = target
        else:
            cleaned["target"] = ""
        return cleaned
