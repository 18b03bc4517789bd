from django.apps import AppConfig


class CapturesConfig(AppConfig):
    name = "captures"
