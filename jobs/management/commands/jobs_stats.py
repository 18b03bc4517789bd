import json

from django.core.management.base import BaseCommand

from jobs import selectors
from jobs.management.commands._terminal import table


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def _queue_state(queue: dict) -> str:
    if queue["paused"]:
        return "paused"
    if queue["unconsumed"]:
        return "NO CONSUMER"
    if queue["awaiting_resend"]:
        return f"active, {queue['awaiting_resend']} waiting for re-send"
    return "active"


class Command(BaseCommand):
    help = "Job counts by status and type, success and failure rates, average run times, queue depths."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", help="Print the statistics as JSON."
        )

    def handle(self, *args, **options):
        stats = selectors.job_stats()
        if options["json"]:
            self.stdout.write(json.dumps(stats, indent=2, default=str))
            return
        by_status = stats["by_status"]
        self.stdout.write(self.style.MIGRATE_HEADING("Jobs by status"))
        self.stdout.write(
            table(
                ["status", "jobs"],
                [*by_status.items(), ("total", sum(by_status.values()))],
            )
        )
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Jobs by type"))
        if stats["types"]:
            self.stdout.write(
                table(
                    [
                        "type",
                        "total",
                        "queued",
                        "running",
                        "completed",
                        "failed",
                        "cancelled",
                        "success",
                        "failure",
                        "avg run time",
                    ],
                    [
                        (
                            row["job_type"],
                            row["total"],
                            stats["by_type"][row["job_type"]]["queued"]
                            + stats["by_type"][row["job_type"]]["retrying"],
                            stats["by_type"][row["job_type"]]["running"],
                            row["completed"],
                            row["failed"],
                            row["cancelled"],
                            _rate(row["success_rate"]),
                            _rate(row["failure_rate"]),
                            _seconds(row["avg_duration_s"]),
                        )
                        for row in stats["types"]
                    ],
                )
            )
        else:
            self.stdout.write("no jobs yet")
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Queues"))
        self.stdout.write(
            table(
                [
                    "queue",
                    "waiting",
                    "in redis",
                    "reserved",
                    "running",
                    "consumers",
                    "state",
                ],
                [
                    (
                        queue["name"],
                        queue["waiting"],
                        "unavailable"
                        if queue["in_broker"] is None
                        else queue["in_broker"],
                        queue["reserved"],
                        queue["running"],
                        len(queue["consumers"]),
                        _queue_state(queue),
                    )
                    for queue in stats["queues"]
                ],
            )
        )
