from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from finance import views as finance_views
from governance import accounts
from governance import views as governance_views
from plans.views import areas as plans_views
from plans.views import parts as parts_views
from plans.views import rows as rows_views
from plans.views import workbooks as workbook_views

PLAN = "areas/<slug:slug>/plans/<slug:round_slug>/"
PART = PLAN + "parts/<slug:key>/"

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
    path(PLAN, parts_views.task_list, name="task_list"),
    path(PLAN + "finance/", finance_views.fund_summary, name="fund_summary"),
    path(PLAN + "risk-share/", finance_views.risk_share, name="risk_share"),
    path(PLAN + "monitoring/", finance_views.monitoring, name="monitoring"),
    path(PLAN + "monitoring/report.pdf", finance_views.monitoring_pdf, name="monitoring_pdf"),
    path(
        PLAN + "monitoring/notices/<int:pk>/acknowledge/<int:organisation_id>/",
        finance_views.notice_acknowledge_view,
        name="notice_acknowledge",
    ),
    path(
        PLAN + "monitoring/<slug:quarter>/", finance_views.quarterly_return, name="quarterly_return"
    ),
    path(
        PLAN + "monitoring/<slug:quarter>/return.xlsx",
        finance_views.quarterly_return_export,
        name="quarterly_return_export",
    ),
    path(
        PLAN + "monitoring/<slug:quarter>/confirm/<int:organisation_id>/",
        finance_views.return_confirm_view,
        name="return_confirm",
    ),
    path(
        PLAN + "monitoring/<slug:quarter>/note/", finance_views.return_note_view, name="return_note"
    ),
    path(
        PLAN + "monitoring/<slug:quarter>/comments/",
        finance_views.return_comment_view,
        name="return_comment",
    ),
    path(PLAN + "export.xlsx", parts_views.plan_export, name="plan_export"),
    path(PLAN + "export.pdf", parts_views.plan_export_pdf, name="plan_export_pdf"),
    path(PLAN + "import/", workbook_views.plan_import, name="plan_import"),
    path(PLAN + "import/<int:pk>/", workbook_views.plan_import_preview, name="plan_import_preview"),
    path(PLAN + "check/", governance_views.readiness, name="readiness"),
    path(PLAN + "reopen/", governance_views.reopen, name="reopen"),
    path(PLAN + "sealed/<int:number>/", governance_views.sealed_version, name="sealed_version"),
    path(PLAN + "sealed/<int:number>/export.xlsx", parts_views.plan_export, name="sealed_export"),
    path(
        PLAN + "sealed/<int:number>/export.pdf",
        parts_views.plan_export_pdf,
        name="sealed_export_pdf",
    ),
    path(
        PLAN + "sealed/<int:number>/compare/<int:other>/",
        governance_views.sealed_compare,
        name="sealed_compare",
    ),
    path(PLAN + "sign-off/", governance_views.signoff, name="signoff"),
    path(PLAN + "milestones/", governance_views.milestones, name="milestones"),
    path(PLAN + "sign-off/sign/<int:organisation_id>/", governance_views.sign, name="sign"),
    path(
        PLAN + "sign-off/decline/<int:organisation_id>/", governance_views.decline, name="decline"
    ),
    path(PLAN + "sign-off/approve/", governance_views.approve, name="approve"),
    path(PLAN + "sign-off/submitted/", governance_views.mark_submitted, name="mark_submitted"),
    path("national/composite/", workbook_views.national_composite, name="national_composite"),
    path(
        "national/composite/<int:pk>/",
        workbook_views.national_composite_build,
        name="national_composite_build",
    ),
    path(
        "national/composite/<int:pk>/download/",
        workbook_views.national_composite_download,
        name="national_composite_download",
    ),
    path("verify/", governance_views.verify, name="verify"),
    path("national/outbox/", governance_views.email_outbox, name="email_outbox"),
    path("allocations/", finance_views.allocations, name="allocations"),
    path(PART, parts_views.part_page, name="part"),
    path(PART + "history/", parts_views.part_history, name="part_history"),
    path(PART + "rows/new/", rows_views.row_page, name="part_row_add"),
    path(PART + "rows/<int:number>/", rows_views.row_page, name="part_row"),
    path(PART + "rows/<int:number>/remove/", rows_views.row_remove, name="part_row_remove"),
    path(PART + "comments/all/", parts_views.part_comments, name="part_comments"),
    path(
        PART + "history/<int:history_id>/restore/",
        parts_views.part_restore_view,
        name="part_restore",
    ),
    path(PART + "presence/", parts_views.part_presence, name="part_presence"),
    path(PART + "assign/", parts_views.part_assign_view, name="part_assign"),
    path(PART + "comments/", parts_views.comment_add_view, name="comment_add"),
    path(
        PART + "comments/<int:pk>/resolve/",
        parts_views.comment_resolve_view,
        {"resolved": True},
        name="comment_resolve",
    ),
    path(
        PART + "comments/<int:pk>/reopen/",
        parts_views.comment_resolve_view,
        {"resolved": False},
        name="comment_reopen",
    ),
    path("organisations/", plans_views.organisation_list, name="organisation_list"),
    path("organisations/new/", plans_views.organisation_form, name="organisation_create"),
    path("organisations/<int:pk>/edit/", plans_views.organisation_form, name="organisation_edit"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=accounts.SignInForm
        ),
        name="login",
    ),
    path("accounts/password_reset/", accounts.PasswordLinkView.as_view(), name="password_reset"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        accounts.PasswordChooseView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("django-admin/", admin.site.urls),
]

handler403 = "itf_portal.views.forbidden"
