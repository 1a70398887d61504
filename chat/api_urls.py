"""REST endpoints of the chat app, mounted under /api/v1/."""

urlpatterns: list = []
