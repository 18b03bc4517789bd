"""Queue analysis for every pending capture that has no job (or analyse them here)."""

from django.core.management.base import BaseCommand

from captures import selectors
from captures import services


class Command(BaseCommand):
    help = "Queue an analysis job for every pending capture that has none."

    def add_arguments(self, parser):
        parser.add_argument(
            "--inline",
            action="store_true",
            help="analyse the pending captures in this process instead of queueing jobs",
        )
        parser.add_argument("--limit", type=int, default=None)

    def handle(self, *args, **options):
        if not options["inline"]:
            result = services.captures_process_pending(limit=options["limit"])
            self.stdout.write(f"{result['queued']} capture(s) queued for analysis")
            return
        pending = selectors.capture_list_pending_unqueued()
        done = failed = 0
        for capture in pending[: options["limit"]]:
            job = services.capture_analyze_now(capture=capture)
            if job.status == "completed":
                done += 1
            else:
                failed += 1
                self.stderr.write(f"capture {capture.public_id}: {job.error_message}")
        self.stdout.write(f"{done} capture(s) analysed, {failed} failed")
