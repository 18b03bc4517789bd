from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_default_schedules(sender=None, using="default", **kwargs) -> None:
    """After every `migrate`: the default periodic tasks exist (idempotent; admin edits kept)."""
    from django.db import connections

    from jobs import services

    tables = connections[using].introspection.table_names()
    if "django_celery_beat_periodictask" not in tables:
        return  # migrated only part of the way
    created, _ = services.schedules_setup()
    stdout = kwargs.get("stdout")
    if created and stdout is not None and kwargs.get("verbosity", 1) >= 1:
        stdout.write(f"  Created default schedules: {', '.join(created)}\n")


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from jobs import signals  # noqa: F401  (connects the Celery signal handlers)
        from jobs.ops import hooks  # noqa: F401  (webhooks, metrics counters, progress)

        # Job types register themselves when their app's tasks module is
        # imported; web processes must know them too, not only workers.
        autodiscover_modules("tasks")
        post_migrate.connect(
            create_default_schedules, sender=self, dispatch_uid="jobs-schedules"
        )
