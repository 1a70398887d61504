from functools import cache

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password

from betthat.users.models import User

PASSWORD = "correct-horse-battery-9"


@cache
def _hashed(password: str) -> str:
    """The project's real hasher, run once per password and process: PBKDF2 made each
    factory user cost ~0.1 s of CPU, a third of the suite's time."""
    return make_password(password)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"bettor{n}@example.com")
    name = factory.Faker("name")
    status = User.Status.ACTIVE
    verification_level = User.VerificationLevel.IDENTITY

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.password = _hashed(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])
            EmailAddress.objects.get_or_create(
                user=obj, email=obj.email, defaults={"verified": True, "primary": True}
            )
