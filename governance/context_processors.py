from governance.permissions import is_national_admin


def current_areas(request):
    """The header shows who is signed in and for which areas."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    names = sorted(set(user.memberships.values_list("partnership__area__name", flat=True)))
    return {"header_areas": names, "header_is_national_admin": is_national_admin(user)}
