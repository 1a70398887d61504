"""Pages of the social app."""

from django.urls import path

from social import views

app_name = "social"
urlpatterns = [
    path("leaderboards/", views.leaderboards_page, name="leaderboards"),
    path("feed/", views.feed_page, name="feed"),
    path("people/", views.people_page, name="people"),
    path("profile/settings/", views.profile_settings, name="settings"),
    path("u/<str:handle>/", views.profile_page, name="profile"),
    path("u/<str:handle>/follow/", views.follow_view, name="follow"),
    path("u/<str:handle>/unfollow/", views.unfollow_view, name="unfollow"),
]
