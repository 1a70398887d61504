from django.urls import path

from betthat.users import views

app_name = "users"
urlpatterns = [
    path("account/settings/", views.account_settings, name="settings"),
]
