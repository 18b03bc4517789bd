from django.core.management.base import BaseCommand

from jobs import services
from jobs.management.commands._terminal import queue_or_error


class Command(BaseCommand):
    help = "Resume a paused queue: workers start its waiting jobs again."

    def add_arguments(self, parser):
        parser.add_argument("queue")

    def handle(self, *args, **options):
        queue = queue_or_error(options["queue"])
        services.queue_resume(queue=queue)
        self.stdout.write(self.style.SUCCESS(f"Resumed queue {queue}."))
