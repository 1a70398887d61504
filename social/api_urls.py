"""REST endpoints of the social app, mounted under /api/v1/."""

urlpatterns: list = []
