"""REST endpoints of the edges app, mounted under /api/v1/."""

urlpatterns: list = []
