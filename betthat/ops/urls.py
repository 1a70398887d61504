from django.contrib import admin
from django.urls import path

from betthat.ops import views

app_name = "ops"

urlpatterns = [
    path("", admin.site.admin_view(views.dashboard), name="dashboard"),
    path("panels/", admin.site.admin_view(views.dashboard_panels), name="dashboard-panels"),
]
