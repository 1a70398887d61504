from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from betthat.users import services
from betthat.users.forms import AccountSettingsForm


@login_required
def account_settings(request):
    form = AccountSettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        services.user_update_settings(user=request.user, fields=fields, preferences=form.preferences())
        messages.success(request, "Settings saved.")
        return redirect("users:settings")
    return render(request, "users/settings.html", {"form": form})
