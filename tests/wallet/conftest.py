import pytest


@pytest.fixture(autouse=True)
def _wallet_test_settings(settings):
    """Sandbox webhooks are delivered by the tests themselves (no worker), and the outbox is
    relayed explicitly, so nothing queues up in Redis between tests."""
    settings.SANDBOX_AUTO_DELIVER = False
    settings.OUTBOX_NUDGE = False
    settings.PAYMENTS_PROVIDER = "sandbox"
