from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from jobs import signals  # noqa: F401  (connects the Celery signal handlers)

        # Job types register themselves when their app's tasks module is
        # imported; web processes must know them too, not only workers.
        autodiscover_modules("tasks")
