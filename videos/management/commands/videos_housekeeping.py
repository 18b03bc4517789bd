"""Run the videos housekeeping now: expire abandoned uploads, settle renditions, sweep scratch."""

from django.core.management.base import BaseCommand

from videos import services


class Command(BaseCommand):
    help = "Expire abandoned uploads (deleting their parts), settle renditions, sweep scratch."

    def handle(self, *args, **options):
        outcome = services.videos_housekeeping()
        for name, value in outcome.items():
            self.stdout.write(f"{name}: {value}")
