"""Signing in and choosing a password, with the limits that keep an account safe.

django-axes locks an account on one device after 5 wrong passwords; `SignInForm` adds the lock
across devices (`governance.lockout`), so guesses spread over many addresses stop too. Links to
choose a password go to invited people who have never set one as well as to those who forgot
theirs, at most `LINKS_PER_ACCOUNT` an hour for an account and `LINKS_PER_ADDRESS` an hour from
one address.
"""

from datetime import timedelta

from axes.utils import reset as axes_reset
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import timezone

from governance.lockout import account_locked
from governance.models import PasswordLinkRequest
from itf_portal.client_ip import client_ip
from itf_portal.mail import email_send

LINKS_PER_ACCOUNT = 3
LINKS_PER_ADDRESS = 10
LINK_WINDOW = timedelta(hours=1)


class SignInForm(auth_forms.AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username")
        if username and (locked := account_locked(username)):
            raise ValidationError(locked, code="account_locked")
        return super().clean()


class PasswordLinkForm(auth_forms.PasswordResetForm):
    """Ask for a link to choose a password. The page that follows is the same whether or not the
    address has an account, and whether or not this account's hourly limit stopped the email."""

    def __init__(self, *args, address: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.address = address
        self.fields["email"].label = "Email address"

    def clean(self):
        cleaned = super().clean()
        since = timezone.now() - LINK_WINDOW
        if (
            self.address
            and PasswordLinkRequest.objects.filter(address=self.address, at__gte=since).count()
            >= LINKS_PER_ADDRESS
        ):
            raise ValidationError(
                "Too many links have been asked for from this computer in the last hour. "
                "Try again in an hour, or ask your area admin.",
                code="too_many_links",
            )
        return cleaned

    def get_users(self, email):
        # An invited person has no password yet (it is unusable until they choose one), and the
        # link they were sent may have expired: they get a new one like anyone else.
        users = get_user_model()._default_manager.filter(email__iexact=email, is_active=True)
        return (user for user in users if user.email.casefold() == email.casefold())

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        email = context["email"].lower()
        since = timezone.now() - LINK_WINDOW
        sent = PasswordLinkRequest.objects.filter(email=email, sent=True, at__gte=since).count()
        allowed = sent < LINKS_PER_ACCOUNT
        PasswordLinkRequest.objects.create(email=email, address=self.address, sent=allowed)
        if allowed:  # through the outbox, like every email the portal sends
            email_send(
                to=[to_email],
                subject=render_to_string(subject_template_name, context),
                body=render_to_string(email_template_name, context),
            )

    def save(self, *args, **kwargs):
        if not any(self.get_users(self.cleaned_data["email"])):
            # Counted against the address all the same, so guessing addresses is limited too.
            PasswordLinkRequest.objects.create(
                email=self.cleaned_data["email"].lower(), address=self.address, sent=False
            )
        return super().save(*args, **kwargs)


class PasswordLinkView(auth_views.PasswordResetView):
    form_class = PasswordLinkForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "address": client_ip(self.request)}


class PasswordChooseView(auth_views.PasswordResetConfirmView):
    """Choosing a new password from the emailed link also lifts any lock on the account."""

    def form_valid(self, form):
        response = super().form_valid(form)
        axes_reset(username=form.user.get_username())
        return response
