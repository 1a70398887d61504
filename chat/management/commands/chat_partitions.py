"""Create the chat message partitions ahead, drop expired ones, report strays."""

from django.core.management.base import BaseCommand

from chat import partitions


class Command(BaseCommand):
    help = "Create chat message partitions ahead of time, drop expired ones, report the default partition."

    def add_arguments(self, parser):
        parser.add_argument(
            "--ahead", type=int, default=None, help="Partitions to create after the current one."
        )

    def handle(self, *args, ahead=None, **options):
        created = partitions.ensure_partitions(ahead=ahead)
        dropped = partitions.drop_expired_partitions()
        for name in created:
            self.stdout.write(f"created {name}")
        for name in dropped:
            self.stdout.write(f"dropped {name}")
        names = partitions.list_partitions()
        self.stdout.write(f"{len(names)} partitions: {', '.join(names)}")
        strays = partitions.default_partition_rows()
        style = self.style.WARNING if strays else self.style.SUCCESS
        self.stdout.write(style(f"{strays} message(s) in the default partition"))
