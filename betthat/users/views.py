from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from betthat.core.errors import ApplicationError, NotFound
from betthat.users import kyc, selectors, services
from betthat.users.forms import AccountSettingsForm, IdentityForm, TokenCreateForm
from betthat.users.http import current_user

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


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The token name is too long (100 characters at most).")
        return redirect("users:settings")
    key = services.user_token_create(user=current_user(request), name=form.cleaned_data["name"])
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
