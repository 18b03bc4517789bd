import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from inputs.wsgi import ChunkedBodyMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = ChunkedBodyMiddleware(
    get_wsgi_application(), max_bytes=settings.API_CHUNKED_BODY_MAX_BYTES
)
