"""Create a capture device and print its API key (shown this once only)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from captures import services


class Command(BaseCommand):
    help = "Create a capture device and print its API key (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("device_id", help='e.g. "esp32-001"')
        parser.add_argument("--name", default="", help="defaults to the device id")
        parser.add_argument("--location", default="")
        parser.add_argument("--owner", help="username of the owner")
        parser.add_argument("--retention-days", type=int, default=None)
        parser.add_argument(
            "--key-only", action="store_true", help="print only the key (for scripts)"
        )

    def handle(self, *args, **options):
        owner = None
        if options["owner"]:
            owner = get_user_model().objects.filter(username=options["owner"]).first()
            if owner is None:
                raise CommandError(f"no user {options['owner']!r}")
        try:
            device, api_key = services.device_create(
                device_id=options["device_id"],
                name=options["name"] or options["device_id"],
                location=options["location"],
                owner=owner,
                retention_days=options["retention_days"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if options["key_only"]:
            self.stdout.write(api_key)
            return
        self.stdout.write(f"device_id: {device.device_id}")
        self.stdout.write(f"api_key:   {api_key}")
        self.stdout.write(
            "The key is shown this once; send it as the X-Device-Key header."
        )
