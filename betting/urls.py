"""Pages of the betting app."""

from django.urls import path

from betting import views

app_name = "betting"
urlpatterns = [
    path("bets/", views.my_bets, name="index"),
    path("bets/export.csv", views.bets_export, name="export"),
    path("bets/slip/", views.bet_slip, name="slip"),
    path("bets/stats/", views.statistics_page, name="statistics"),
    path("bets/responsible/", views.responsible_gambling, name="responsible"),
    path("account/close/", views.account_close_page, name="account-close"),
    path("bets/<int:bet_id>/", views.bet_detail, name="detail"),
    path("bets/<int:bet_id>/cancel/", views.bet_cancel_view, name="cancel"),
]
