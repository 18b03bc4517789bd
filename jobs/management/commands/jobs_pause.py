from django.core.management.base import BaseCommand

from jobs import services
from jobs.management.commands._terminal import queue_or_error


class Command(BaseCommand):
    help = "Pause a queue: no job of it starts on any worker, also on workers started later."

    def add_arguments(self, parser):
        parser.add_argument("queue")

    def handle(self, *args, **options):
        queue = queue_or_error(options["queue"])
        services.queue_pause(queue=queue)
        self.stdout.write(
            self.style.SUCCESS(f"Paused queue {queue}; its waiting jobs stay queued.")
        )
