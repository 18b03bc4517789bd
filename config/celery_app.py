"""The Celery application: configured from Django settings (CELERY_ namespace)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("mediaqueue")


@app.on_configure.connect
def setup_django_for_celery_commands(sender=None, **kwargs) -> None:
    """Load Django's apps before Celery uses its result backend.

    The worker's Django fixup does this at worker start; `celery call`,
    `celery result`, Flower and the other commands never start a worker, and
    the django-db result backend imports Django models.
    """
    from django.apps import apps

    if not apps.ready and not apps.loading:
        import django

        django.setup()


app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Each worker writes its presence (queues, pool size) to Redis every few seconds.
app.steps["consumer"].add("jobs.worker_control:WorkerPresence")
