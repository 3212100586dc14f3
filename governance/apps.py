from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _permissions_sync(sender, **kwargs):
    from governance.permissions import national_admin_group_sync, permissions_sync_all

    national_admin_group_sync()
    permissions_sync_all()


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Roles and sign-off"

    def ready(self):
        # The national-admin group and the role map are configuration: everyone's permissions
        # are brought in step with them after every migrate, like Django's own permissions.
        post_migrate.connect(_permissions_sync, sender=self)
