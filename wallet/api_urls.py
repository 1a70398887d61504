"""REST endpoints of the wallet app, mounted under /api/v1/."""

urlpatterns: list = []
