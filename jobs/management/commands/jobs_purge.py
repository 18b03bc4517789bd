from django.core.management.base import BaseCommand

from jobs import selectors
from jobs import services
from jobs.management.commands._terminal import queue_or_error


class Command(BaseCommand):
    help = "Remove every waiting message of a queue from Redis and cancel the queue's waiting jobs."

    def add_arguments(self, parser):
        parser.add_argument("queue")
        parser.add_argument(
            "--yes",
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation.",
        )

    def handle(self, *args, **options):
        queue = queue_or_error(options["queue"])
        if options["interactive"]:
            state = selectors.queue_get(name=queue)
            depth = state["in_broker"]
            messages = "an unknown number of" if depth is None else str(depth)
            answer = input(
                f"Purge queue {queue!r}: {messages} waiting message(s) are removed from "
                f"Redis and the queue's {state['waiting']} queued and retrying job(s) "
                "are cancelled.\n"
                "Type 'yes' to continue, or anything else to stop: "
            )
            if answer.strip().lower() != "yes":
                self.stdout.write("Purge cancelled; nothing changed.")
                return
        cancelled = services.queue_purge(queue=queue)
        self.stdout.write(
            self.style.SUCCESS(
                f"Purged queue {queue}: {cancelled} waiting job(s) cancelled."
            )
        )
