"""REST endpoints of the betting app, mounted under /api/v1/."""

from django.urls import path

from betting import api

urlpatterns = [
    path("bets/", api.BetListPlaceApi.as_view(), name="bets"),
    path("bets/export/", api.BetExportApi.as_view(), name="bet-export"),
    path("bets/stats/", api.BetStatsApi.as_view(), name="bet-stats"),
    path("bets/recommendation/", api.BetRecommendationApi.as_view(), name="bet-recommendation"),
    path("bets/limits/", api.LimitsApi.as_view(), name="bet-limits"),
    path("bets/self-exclusion/", api.SelfExclusionApi.as_view(), name="bet-self-exclusion"),
    path("bets/<int:bet_id>/", api.BetDetailApi.as_view(), name="bet-detail"),
    path("bets/<int:bet_id>/cancel/", api.BetCancelApi.as_view(), name="bet-cancel"),
    path("account/close/", api.AccountCloseApi.as_view(), name="account-close"),
]
