from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from betthat.core.errors import NotFound
from betthat.users import emails, selectors, services
from betthat.users.forms import AccountSettingsForm, TokenCreateForm
from betthat.users.http import current_user
from betthat.users.models import ApiToken
from betthat.users.reauth import reauthentication_required

NEW_TOKEN_SESSION_KEY = "users.new_token"


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    form = AccountSettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        services.user_update_settings(
            user=current_user(request), fields=fields, preferences=form.preferences()
        )
        messages.success(request, "Settings saved.")
        return redirect("users:settings")
    return render(
        request,
        "users/settings.html",
        {
            "form": form,
            "token_form": TokenCreateForm(),
            "tokens": selectors.user_tokens(user=current_user(request)),
            # A new key is shown once, on the page right after it was made.
            "new_token": request.session.pop(NEW_TOKEN_SESSION_KEY, None),
            "token_lifetime_days": settings.API_TOKEN_LIFETIME.days,
        },
    )


@reauthentication_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """A token made here cannot take sensitive steps (ApiToken.Source.SESSION, see reauth.py),
    and making one at all needs a recently re-authenticated session."""
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The token name is too long (100 characters at most).")
        return redirect("users:settings")
    key = services.user_token_create(
        user=current_user(request), name=form.cleaned_data["name"], source=ApiToken.Source.SESSION
    )
    request.session[NEW_TOKEN_SESSION_KEY] = key
    messages.success(request, "Token created. Copy it now: it is not shown again.")
    return redirect("users:settings")


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        services.user_token_revoke(user=current_user(request), token_id=token_id)
    except NotFound:
        raise Http404("No such token.") from None
    messages.success(request, "Token revoked.")
    return redirect("users:settings")


@csrf_exempt  # the signed token is the credential; mail clients POST one-click unsubscribes (RFC 8058)
def email_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every notification email: GET asks, POST turns notification emails off.
    No login needed (the link is signed for one user); a bad or altered token is a 404."""
    user = emails.user_from_unsubscribe_token(token)
    if user is None:
        raise Http404("This unsubscribe link is not valid.")
    if request.method == "POST":
        emails.user_email_unsubscribe(user=user)
        return render(request, "users/email_unsubscribe.html", {"done": True})
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return render(request, "users/email_unsubscribe.html", {"done": False, "email": user.email})
