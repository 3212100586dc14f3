from django.contrib import admin

from itf_portal.models import Email


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    """The outbox: an email that could not be sent after every retry shows here as failed."""

    list_display = ["created_at", "subject", "status", "attempts", "last_error"]
    list_filter = ["status"]
    search_fields = ["subject", "to"]
    readonly_fields = [field.name for field in Email._meta.fields]

    def has_add_permission(self, request):
        return False
