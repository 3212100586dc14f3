"""Domain functions for membership: who holds which role in which area."""

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from governance.constants import Role
from governance.models import Membership
from governance.permissions import is_national_admin, permissions_sync
from itf_portal.mail import email_send, page_link
from plans.models import Area, Organisation, Partnership
from plans.services import plans_being_signed

User = get_user_model()


# The roles that act for an organisation: an area admin gives its roles, a signatory commits it.
_ACTING_FOR_ORGANISATION = (Role.AREA_ADMIN, Role.SIGNATORY)


def grant_check(*, actor, user, area: Area, organisation: Organisation, role: str) -> None:
    """Separation of duties in who may give a role: nobody gives a role to themselves; an area
    admin or a signatory for an organisation is added only by that organisation's own area admin
    or by a national admin, so no admin can act for another partner (nor make someone who will);
    and the Health and Wellbeing Board's chair, who approves for the Board and no partner, is
    added by a national admin only. `actor` None is a trusted script."""
    if actor is None:
        return
    if actor.pk == user.pk:
        raise ValidationError(
            {
                "email": "You cannot give yourself a role. Ask another area admin or a "
                "national admin."
            }
        )
    if is_national_admin(actor):
        return
    if role == Role.HWB_CHAIR:
        raise ValidationError(
            {
                "role": "Only a national admin can add the Health and Wellbeing Board chair, "
                "who approves the plan for the Board. Ask a national admin."
            }
        )
    if role in _ACTING_FOR_ORGANISATION:
        who = "an area admin" if role == Role.AREA_ADMIN else "a signatory"
        own_admin = Membership.objects.filter(
            user=actor,
            role=Role.AREA_ADMIN,
            partnership__area=area,
            partnership__organisation=organisation,
        ).exists()
        if not own_admin:
            raise ValidationError(
                {
                    "role": f"Only an area admin from {organisation.name}, or a national admin, "
                    f"can add {who} for {organisation.name}."
                }
            )


@transaction.atomic
def membership_add(
    *, area: Area, organisation: Organisation, user, role: str, actor=None
) -> Membership:
    """Give `user` a role for one partner of the area, the organisation they work for; `actor` is
    who gives it (None for a trusted script such as the demo loader)."""
    partnership = Partnership.objects.filter(area=area, organisation=organisation).first()
    if partnership is None:
        raise ValidationError(
            {"organisation": f"{organisation.name} is not a partner in {area.name}."}
        )
    if role not in Role.values:
        raise ValidationError({"role": "Choose one of the roles listed."})
    grant_check(actor=actor, user=user, area=area, organisation=organisation, role=role)
    employer = (
        Membership.objects.filter(user=user)
        .exclude(partnership__organisation=organisation)
        .select_related("partnership__organisation")
        .first()
    )
    if employer is not None:
        # A person acts for their own organisation only, in every area: nobody holds one
        # partner's role and another's, so nobody can commit two partners.
        raise ValidationError(
            {
                "organisation": f"{user.get_full_name() or user.username} has roles for "
                f"{employer.partnership.organisation.name}: a person holds roles for their own "
                "organisation only. Choose that organisation, or ask the other organisation "
                "to add someone of theirs."
            }
        )
    if Membership.objects.filter(user=user, partnership=partnership, role=role).exists():
        raise ValidationError(
            {
                "role": f"{user.get_full_name() or user.username} is already "
                f"{Role(role).label.lower()} for {organisation.name} in {area.name}."
            }
        )
    membership = Membership(user=user, partnership=partnership, role=role)
    membership.full_clean(validate_unique=False)
    membership.save()
    permissions_sync(user=user, area=area)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    area = membership.partnership.area
    # Lock the area's admin memberships so two removals cannot each leave the other as "last".
    admins = list(
        Membership.objects.select_for_update()
        .filter(partnership__area=area, role=Role.AREA_ADMIN)
        .values_list("pk", flat=True)
    )
    if membership.role in (Role.SIGNATORY, Role.HWB_CHAIR) and (sealed := plans_being_signed(area)):
        raise ValidationError(
            f"The {sealed[0].round.name} plan is {sealed[0].get_state_display().lower()}: its "
            "signatories and Health and Wellbeing Board chair stay until it is reopened or "
            "submitted."
        )
    if membership.role == Role.AREA_ADMIN and admins == [membership.pk]:
        raise ValidationError(
            "This is the area's only area admin. Add another area admin before removing this one."
        )
    user = membership.user
    membership.delete()
    permissions_sync(user=user, area=area)


@transaction.atomic
def member_add_by_email(
    *,
    area: Area,
    organisation: Organisation,
    role: str,
    email: str,
    first_name: str,
    last_name: str,
    actor=None,
) -> tuple[Membership, bool]:
    """Give a role to the person with this email, creating their account if they have none.

    A new person is emailed a link to choose their own password; nobody else ever knows it.
    Returns the membership and whether the account is new.
    """
    email = User.objects.normalize_email(email.strip()).lower()
    users = list(User.objects.filter(email__iexact=email)[:2])
    if len(users) > 1:
        raise ValidationError(
            {"email": "Two accounts share this email address. Ask a national admin."}
        )
    created = not users
    if created:
        if not first_name.strip() or not last_name.strip():
            raise ValidationError(
                {
                    "first_name" if not first_name.strip() else "last_name": "This person has no "
                    "account yet: enter their first and last name."
                }
            )
        if User.objects.filter(username__iexact=email).exists():
            raise ValidationError({"email": "An account with this sign-in name already exists."})
        user = User(
            username=email, email=email, first_name=first_name.strip(), last_name=last_name.strip()
        )
        user.set_unusable_password()
        user.full_clean()
        user.save()
    else:
        user = users[0]
    membership = membership_add(
        area=area, organisation=organisation, user=user, role=role, actor=actor
    )
    if created:
        _welcome_send(user=user, membership=membership)
    return membership, created


def _welcome_send(*, user, membership: Membership) -> None:
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "membership": membership,
        "link": page_link(path),
        "new_link": page_link(reverse("password_reset")),
    }
    email_send(
        to=[user.email],
        subject=f"You have been added to the ITF plan for {membership.partnership.area.name}",
        body=render_to_string("governance/email/welcome.txt", context),
    )
