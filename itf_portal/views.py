from django.shortcuts import render


def forbidden(request, exception=None):
    """403 with the reason the refusal gave, so the person knows who can help."""
    message = str(exception) if exception and str(exception) else ""
    return render(request, "403.html", {"message": message}, status=403)
