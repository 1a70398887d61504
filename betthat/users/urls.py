from django.urls import path

from betthat.users import views

app_name = "users"
urlpatterns = [
    path("account/settings/", views.account_settings, name="settings"),
    path("account/email/unsubscribe/<str:token>/", views.email_unsubscribe, name="email-unsubscribe"),
    path("account/verification/", views.identity_verification, name="verification"),
    path("account/tokens/", views.token_create, name="token-create"),
    path("account/tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
]
