import pytest

from tests.betting.factories import make_game
from tests.wallet.factories import fund_user


@pytest.fixture(autouse=True)
def _no_outbox_nudge(settings):
    # The relay is run explicitly by the tests that need it; no broker round trip per publish.
    settings.OUTBOX_NUDGE = False


@pytest.fixture
def game(db):
    return make_game()


@pytest.fixture
def funded_user(user):
    fund_user(user, 100_000)
    return user
