from django.core.management.base import BaseCommand

from jobs import services


class Command(BaseCommand):
    help = (
        "Create the default periodic tasks in django-celery-beat's tables. "
        "Idempotent: existing ones are kept as operators edited them."
    )

    def handle(self, *args, **options):
        created, kept = services.schedules_setup()
        for name in created:
            self.stdout.write(self.style.SUCCESS(f"created  {name}"))
        for name in kept:
            self.stdout.write(f"kept     {name}")
        self.stdout.write(f"{len(created)} created, {len(kept)} kept.")
