from django.apps import AppConfig
from django.db import IntegrityError, transaction
from django.db.models.signals import post_migrate


def _parts_complete(sender, verbosity=1, **kwargs):
    from plans.services import parts_complete

    try:
        with transaction.atomic():
            parts_complete()
    except IntegrityError:
        # A part the description has but the database does not allow yet: its migration is
        # still to be made (`makemigrations` runs after this migrate). The migrate that applies
        # it gives every plan the part.
        if verbosity:
            print("Parts new to the template wait for their migration: run makemigrations plans.")


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Areas and plans"

    def ready(self):
        # The parts are the description's: after every migrate each plan has a row for each of
        # them, so a part added to the template needs no data migration to reach old plans.
        post_migrate.connect(_parts_complete, sender=self)
