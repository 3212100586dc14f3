from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from governance.models import Membership


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    """Read-only here: memberships change on the area's page, which keeps permissions in step."""

    list_display = ["user", "partnership", "role"]
    list_filter = ["role", "partnership__area"]
    search_fields = ["user__username", "user__email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
