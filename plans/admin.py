from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from plans.models import Area, Organisation


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(Area)
class AreaAdmin(SimpleHistoryAdmin):
    """Read-only here: partners are set on the area's page, where the partner rule is checked."""

    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
