"""REST endpoints of the betting app, mounted under /api/v1/."""

urlpatterns: list = []
