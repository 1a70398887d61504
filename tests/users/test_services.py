import pytest
from django.db import IntegrityError, transaction

from betthat.users import services
from betthat.users.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_suspended_user_cannot_log_in(client):
    user = UserFactory()
    services.user_suspend(user=user)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 302
    assert response["Location"] == "/accounts/inactive/"


def test_active_user_logs_in(client):
    user = UserFactory()
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_user_suspended_mid_session_is_logged_out(client):
    user = UserFactory()
    client.force_login(user)
    services.user_suspend(user=user)
    response = client.get("/wallet/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert response.wsgi_request.user.is_anonymous


def test_soft_delete_hides_and_restore_brings_back():
    user = UserFactory()
    services.user_soft_delete(user=user)
    assert not User.objects.filter(pk=user.pk).exists()
    assert User.all_objects.filter(pk=user.pk, deleted_at__isnull=False).exists()
    services.user_restore(user=User.all_objects.get(pk=user.pk))
    assert User.objects.filter(pk=user.pk).exists()


def test_max_kelly_fraction_check_constraint_in_database():
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(max_kelly_fraction="1.5")
    user.refresh_from_db()
    assert str(user.max_kelly_fraction) == "0.2500"


def test_email_confirmation_activates_pending_user():
    user = UserFactory(status=User.Status.PENDING_VERIFICATION, verification_level=0)
    services.user_verify_email(user=user)
    user.refresh_from_db()
    assert user.status == User.Status.ACTIVE
    assert user.verification_level == User.VerificationLevel.EMAIL


def test_failed_logins_are_throttled(client):
    user = UserFactory()
    for _ in range(5):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)


def test_admin_actions_suspend_and_restore(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    target = UserFactory()
    client.force_login(staff)
    response = client.post(
        "/admin/users/user/", {"action": "action_user_suspend", "_selected_action": [target.pk]}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.status == User.Status.SUSPENDED
    client.post("/admin/users/user/", {"action": "action_user_soft_delete", "_selected_action": [target.pk]})
    assert User.all_objects.get(pk=target.pk).deleted_at is not None
    listing = client.get("/admin/users/user/?deleted=yes&q=" + target.email)
    assert target.email.encode() in listing.content
    client.post("/admin/users/user/", {"action": "action_user_restore", "_selected_action": [target.pk]})
    assert User.objects.filter(pk=target.pk).exists()
