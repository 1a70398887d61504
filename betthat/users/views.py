from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from betthat.core.errors import ApplicationError, NotFound
from betthat.users import emails, kyc, selectors, services
from betthat.users.forms import AccountSettingsForm, IdentityForm, TokenCreateForm
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


@login_required
def identity_verification(request: HttpRequest) -> HttpResponse:
    """Submit identity details to the KYC provider and see the check's state."""
    user = current_user(request)
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            details = kyc.validate_identity(**form.cleaned_data)
            kyc.kyc_submit(user=user, details=details)
        except ApplicationError as error:
            for name, problems in (error.details or {}).items():
                if name in form.fields and isinstance(problems, list):
                    for problem in problems:
                        form.add_error(name, problem)
            if not any(name in form.fields for name in (error.details or {})):
                form.add_error(None, error.message)
        else:
            messages.success(request, "Thank you. Your identity check was sent.")
            return redirect("users:verification")
    return render(
        request,
        "users/verification.html",
        {"form": form, "kyc": kyc.kyc_status_for_user(user=user)},
    )
