from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _national_admin_group(sender, **kwargs):
    from governance.permissions import national_admin_group_sync

    national_admin_group_sync()


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Roles and sign-off"

    def ready(self):
        # The national-admin group and its permissions are configuration: kept in step after
        # every migrate, like Django's own permissions.
        post_migrate.connect(_national_admin_group, sender=self)
