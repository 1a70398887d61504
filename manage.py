#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "betthat.settings")
    from betthat import embedded

    # With DATABASE_URL / REDIS_URL unset, a command starts the embedded servers it needs
    # (or uses the running ones); it stops only what it started, when it exits.
    embedded.start_for_entry_point()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
