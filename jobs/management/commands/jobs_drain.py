from django.core.management.base import BaseCommand

from jobs import selectors
from jobs.management.commands._terminal import progress_bar
from jobs.management.commands._terminal import queue_or_error
from jobs.services.drain import jobs_drain
from jobs.services.drain import jobs_waiting_count


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Run waiting jobs here, in this process, until none is left: for hosts "
        "without a worker (run it from cron). Most urgent first, then oldest; "
        "paused queues are skipped; a failed attempt is retried at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            metavar="QUEUE",
            help="Drain this queue (repeatable); default: every queue.",
        )
        parser.add_argument(
            "--limit", type=_positive, help="Run at most this many jobs."
        )
        parser.add_argument(
            "--include-paused",
            action="store_true",
            help="Run the jobs of paused queues too (skipped by default).",
        )

    def handle(self, *args, **options):
        queues = [
            queue_or_error(queue)
            for queue in options["queues"] or selectors.queue_names()
        ]
        limit = options["limit"]
        include_paused = options["include_paused"]
        if not include_paused:
            paused = sorted(selectors.paused_queue_names() & set(queues))
            if paused:
                self.stdout.write(
                    f"Skipping paused queue(s) {', '.join(paused)} (--include-paused runs them)."
                )
        waiting = jobs_waiting_count(queues=queues, include_paused=include_paused)
        total = waiting if limit is None else min(waiting, limit)
        with progress_bar(stream=self.stderr, total=total, desc="draining") as bar:

            def advance(job):
                if bar.n >= bar.total:
                    bar.total = bar.n + 1  # submitted while draining
                bar.set_postfix_str(f"{job.job_type} {job.status}", refresh=False)
                bar.update(1)

            summary = jobs_drain(
                queues=queues,
                limit=limit,
                include_paused=include_paused,
                on_job=advance,
            )
        self.stdout.write(
            f"Ran {summary['ran']} job(s) from {', '.join(queues)}: "
            f"{summary['completed']} completed, {summary['failed']} failed, "
            f"{summary['cancelled']} cancelled."
        )
        if summary["skipped"]:
            self.stdout.write(
                self.style.WARNING(
                    f"Skipped {summary['skipped']} job(s) of unknown job types."
                )
            )
        if summary["failed"]:
            self.stdout.write(
                self.style.WARNING("Failed jobs: manage.py jobs_list --status failed")
            )
