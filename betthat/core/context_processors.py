from django.conf import settings


def site(request):
    return {"SITE_NAME": "Bet-That", "DEBUG": settings.DEBUG}
