from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from governance import views as governance_views
from plans import views as plans_views

urlpatterns = [
    path("", plans_views.dashboard, name="dashboard"),
    path("areas/new/", plans_views.area_create, name="area_create"),
    path("areas/<slug:slug>/", plans_views.area_detail, name="area_detail"),
    path("areas/<slug:slug>/edit/", plans_views.area_edit, name="area_edit"),
    path("areas/<slug:slug>/members/add/", governance_views.member_add, name="member_add"),
    path(
        "areas/<slug:slug>/members/<int:pk>/remove/",
        governance_views.member_remove,
        name="member_remove",
    ),
    path("organisations/", plans_views.organisation_list, name="organisation_list"),
    path("organisations/new/", plans_views.organisation_form, name="organisation_create"),
    path("organisations/<int:pk>/edit/", plans_views.organisation_form, name="organisation_edit"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("django-admin/", admin.site.urls),
]

handler403 = "itf_portal.views.forbidden"
