"""Settings for one machine (`make run`): cameras on the local network reach it, so
DEBUG is off unless asked for (DJANGO_DEBUG=true); a key of its own, kept in var/."""

from .base import *  # noqa: F403
from .base import VAR_DIR
from .base import env
from .local_secret import local_secret_key

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default=local_secret_key(VAR_DIR))
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"]
)
