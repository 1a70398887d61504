"""KYC through the configured provider hook: submit (page and API), the signed webhook
raises the level once, staff override in the admin (audited), no identity data kept or logged."""

from __future__ import annotations

import json
import logging
import time

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.storage import storages
from django.test import Client

from betthat.core.audit import audit_read
from betthat.users.kyc import SIGNATURE_HEADER, sandbox_kyc
from betthat.users.models import KYCStatus, KYCWebhookEvent, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/kyc/"
WEBHOOK = "/api/v1/kyc/webhooks/{}/"
DETAILS = {"full_name": "Ada Quintessa Lovelace", "date_of_birth": "1990-12-10", "country": "gb"}


@pytest.fixture
def bettor():
    return UserFactory(verification_level=User.VerificationLevel.EMAIL)


def submit(client, document_number, capture):
    with capture(execute=True):
        return client.post(URL, {**DETAILS, "document_number": document_number}, format="json")


@pytest.mark.parametrize(
    ("document", "status", "level", "reason"),
    [
        ("000000000", "approved", 2, ""),
        ("0000-00001", "approved", 3, ""),
        ("999999999", "rejected", 1, "document_unreadable"),
        ("AB1234567", "rejected", 1, "not_a_test_document"),
    ],
)
def test_the_sandbox_decides_by_its_documented_test_documents(
    bettor, token_client_for, django_capture_on_commit_callbacks, document, status, level, reason
):
    client = token_client_for(bettor)
    response = submit(client, document, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    assert response.json()["status"] == "pending"  # the answer comes by webhook
    body = client.get(URL).json()
    assert (body["status"], body["verification_level"], body["reason"]) == (status, level, reason)
    assert User.objects.get(pk=bettor.pk).verification_level == level
    assert body["provider_reference"].startswith("sbx_kyc_")


def test_no_identity_data_is_stored_or_logged(
    bettor, token_client_for, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.DEBUG)
    submit(token_client_for(bettor), "000000000", django_capture_on_commit_callbacks)
    record = KYCStatus.objects.get(user=bettor)
    stored = json.dumps({f.name: str(getattr(record, f.attname)) for f in KYCStatus._meta.fields})
    stored += json.dumps(list(KYCWebhookEvent.objects.values()), default=str)
    for secret in ("Lovelace", "Quintessa", "1990", "000000000"):
        assert secret not in stored
        assert secret not in caplog.text
    assert record.country == "GB"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date_of_birth": "2015-01-01"}, "date_of_birth"),
        ({"country": "G1"}, "country"),
        ({"document_number": "x!"}, "document_number"),
        ({"full_name": " "}, "full_name"),
        ({"date_of_birth": "not a date"}, "date_of_birth"),
    ],
)
def test_bad_details_are_a_400_and_send_nothing(bettor, token_client_for, change, field):
    response = token_client_for(bettor).post(
        URL, {**DETAILS, "document_number": "000000000", **change}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and field in error["details"]
    assert not KYCStatus.objects.filter(user=bettor).exists()


def test_one_check_at_a_time_and_none_once_verified(
    bettor, token_client_for, django_capture_on_commit_callbacks
):
    client = token_client_for(bettor)
    first = client.post(URL, {**DETAILS, "document_number": "000000000"}, format="json")  # not delivered
    assert first.status_code == 202
    again = client.post(URL, {**DETAILS, "document_number": "000000000"}, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "kyc_pending")
    verified = token_client_for(UserFactory())  # identity level already
    refused = verified.post(URL, {**DETAILS, "document_number": "000000000"}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "already_verified")


def _event(reference, *, event_id="evt_kyc_1", kind="identity.verification.approved", level=2):
    return {
        "id": event_id,
        "type": kind,
        "created": int(time.time()),
        "data": {"reference": reference, "level": level},
    }


def _post(api_client, event, *, signature=None, provider="sandbox"):
    body = json.dumps(event).encode()
    header = signature if signature is not None else sandbox_kyc.sign(body)
    return api_client.generic(
        "POST",
        WEBHOOK.format(provider),
        body,
        content_type="application/json",
        **{f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}": header},
    )


def test_the_webhook_is_signed_applied_once_and_strict(bettor, token_client_for, api_client):
    token_client_for(bettor).post(URL, {**DETAILS, "document_number": "000000000"}, format="json")
    reference = KYCStatus.objects.get(user=bettor).provider_reference
    forged = _post(api_client, _event(reference), signature=sandbox_kyc.sign(b"{}", secret="whsec_forged"))
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "invalid_signature")
    stale = _post(
        api_client,
        _event(reference),
        signature=sandbox_kyc.sign(json.dumps(_event(reference)).encode(), timestamp=int(time.time()) - 301),
    )
    assert stale.status_code == 401
    assert User.objects.get(pk=bettor.pk).verification_level == 1
    bad_level = _post(api_client, _event(reference, level=7))
    assert (bad_level.status_code, bad_level.json()["error"]["code"]) == (400, "parse_error")
    assert _post(api_client, _event(reference), provider="acme").status_code == 404
    ok = _post(api_client, _event(reference))
    assert ok.status_code == 200 and ok.json()["outcome"] == "approved"
    assert _post(api_client, _event(reference)).json()["outcome"] == "duplicate"
    late = _post(
        api_client, _event(reference, event_id="evt_kyc_2", kind="identity.verification.rejected", level=0)
    )
    assert late.json()["outcome"] == "already approved"
    assert (
        _post(api_client, _event("sbx_kyc_nobody", event_id="evt_kyc_3")).json()["outcome"]
        == "ignored: unknown reference"
    )
    assert User.objects.get(pk=bettor.pk).verification_level == 2


@pytest.fixture
def audit_dir(tmp_path, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "audit": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    storages._storages.pop("audit", None)
    yield tmp_path
    storages._storages.pop("audit", None)


def test_staff_override_needs_its_permission_and_is_audited(bettor, audit_dir):
    plain = UserFactory(is_staff=True)
    plain.user_permissions.add(*Permission.objects.filter(codename__in=["view_kycstatus", "view_user"]))
    client = Client()
    client.force_login(plain)
    url = f"/admin/users/kycstatus/override/{bettor.pk}/"
    assert client.post(url, {"status": "approved", "level": 2, "reason": "x"}).status_code == 403
    assert User.objects.get(pk=bettor.pk).verification_level == 1
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_kycstatus", "view_user", "override_kyc"])
    )
    client.force_login(staff)
    assert client.get(url).status_code == 200
    approved = client.post(url, {"status": "approved", "level": 3, "reason": "documents checked by hand"})
    assert approved.status_code == 302
    assert User.objects.get(pk=bettor.pk).verification_level == 3
    record = KYCStatus.objects.get(user=bettor)
    assert (record.status, record.level, record.overridden_by_id) == ("approved", 3, staff.pk)
    assert approved["Location"] == f"/admin/users/kycstatus/{record.pk}/change/"
    [logged] = LogEntry.objects.filter(object_id=str(bettor.pk)).values_list("change_message", flat=True)
    assert logged == "KYC overridden: approved at level 3"
    client.post(url, {"status": "rejected", "level": 2, "reason": "forged passport"})
    assert User.objects.get(pk=bettor.pk).verification_level == 1
    assert [(r["action"], r["actor_id"], r["level_to"]) for r in audit_read("staff")] == [
        ("kyc_level", staff.pk, 3),
        ("kyc_level", staff.pk, 1),
    ]
    assert client.get(f"/admin/users/kycstatus/{record.pk}/change/").status_code == 200


def test_the_page_submits_and_shows_the_answer(bettor, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(bettor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/account/verification/", {**DETAILS, "document_number": "000000000"})
    assert response.status_code == 302
    page = client.get("/account/verification/")
    assert b"Approved" in page.content and b"Identity verified" in page.content
    assert b"Lovelace" not in page.content


def test_the_sandbox_verifies_nobody_on_a_production_site(bettor, token_client_for, settings):
    settings.KYC_SANDBOX_ENABLED = False  # DEBUG off and the sandbox not explicitly allowed
    response = token_client_for(bettor).post(URL, {**DETAILS, "document_number": "000000000"}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (503, "kyc_unavailable")
    assert not KYCStatus.objects.filter(user=bettor).exists()
    assert User.objects.get(pk=bettor.pk).verification_level == 1


def test_the_settings_enable_the_kyc_sandbox_only_with_debug_or_when_allowed():
    import os
    import subprocess
    import sys

    from django.conf import settings as django_settings

    code = "import django; django.setup(); from django.conf import settings; print(settings.KYC_SANDBOX_ENABLED, bool(settings.KYC_WEBHOOK_SECRET))"
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "example.com",
        "PAYMENTS_PROVIDER": "stripe",
        "DJANGO_SETTINGS_MODULE": "betthat.settings",
    }
    env.pop("SANDBOX_ALLOWED_WITHOUT_DEBUG", None)
    env.pop("KYC_WEBHOOK_SECRET", None)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.split() == ["False", "False"], out.stderr[-2000:]
