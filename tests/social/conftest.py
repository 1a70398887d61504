import pytest


@pytest.fixture(autouse=True)
def _no_outbox_nudge(settings):
    # The tests run the outbox relay themselves (as the worker would), with no broker
    # round trip per publish.
    settings.OUTBOX_NUDGE = False
