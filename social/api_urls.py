"""REST endpoints of the social app, mounted under /api/v1/."""

from django.urls import path

from social import api

urlpatterns = [
    path("people/", api.PeopleSearchApi.as_view(), name="people-search"),
    path("me/profile/", api.MyProfileApi.as_view(), name="my-profile"),
    path("me/following/", api.MyFollowingApi.as_view(), name="my-following"),
    path("me/followers/", api.MyFollowersApi.as_view(), name="my-followers"),
    path("profiles/<str:handle>/", api.ProfileDetailApi.as_view(), name="profile-detail"),
    path("profiles/<str:handle>/bets/", api.ProfileBetListApi.as_view(), name="profile-bets"),
    path("profiles/<str:handle>/record/", api.ProfileRecordApi.as_view(), name="profile-record"),
    path("follows/", api.FollowCreateApi.as_view(), name="follows"),
    path("follows/<str:handle>/", api.FollowDeleteApi.as_view(), name="follow-delete"),
    path("feed/", api.FeedApi.as_view(), name="feed"),
    path("leaderboards/", api.LeaderboardApi.as_view(), name="leaderboards"),
]
