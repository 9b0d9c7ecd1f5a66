from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemoteConfig(AppConfig):
    name = "portico.remote"
    verbose_name = _("Remote access")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from portico.remote.models import AgentCredential
        from portico.remote.services import credential_deleted

        # A deleted device takes its agent's credential with it: its live connection closes too.
        post_delete.connect(credential_deleted, sender=AgentCredential, dispatch_uid="remote.credential_deleted")
