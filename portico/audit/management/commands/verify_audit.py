"""Verify every audit chain (AUD-2) and report the first altered event of each broken one."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from portico.audit.models import AuditChain, AuditEvent
from portico.audit.services import chain_head_matches, verify_chain


class Command(BaseCommand):
    help = "Verify the hash chains of the audit log."

    def handle(self, *args, **options):
        broken = 0
        # Chains named by events count too: a deleted head row must not hide its chain.
        keys = sorted(
            set(AuditChain.objects.values_list("key", flat=True))
            | set(AuditEvent.objects.order_by().values_list("chain", flat=True).distinct())
        )
        for key in keys:
            first_bad = verify_chain(key)
            label = _("platform") if key == 0 else _("partner %(id)s") % {"id": key}
            if first_bad is not None:
                broken += 1
                self.stdout.write(
                    _("Chain %(chain)s: event #%(seq)s (id %(id)s, %(action)s) was altered or is out of place.")
                    % {"chain": label, "seq": first_bad.seq, "id": first_bad.pk, "action": first_bad.action}
                )
            elif not chain_head_matches(key):
                broken += 1
                self.stdout.write(_("Chain %(chain)s: events at the end of the chain were removed.") % {"chain": label})
            else:
                self.stdout.write(_("Chain %(chain)s: intact.") % {"chain": label})
        if broken:
            raise CommandError(_("%(count)d audit chain(s) failed verification.") % {"count": broken})
        self.stdout.write(self.style.SUCCESS(_("All audit chains verified.")))
