from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _parts_complete(sender, **kwargs):
    from plans.services import parts_complete

    parts_complete()


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Areas and plans"

    def ready(self):
        # The parts are the description's: after every migrate each plan has a row for each of
        # them, so a part added to the template needs no migration of its own to reach old plans.
        post_migrate.connect(_parts_complete, sender=self)
