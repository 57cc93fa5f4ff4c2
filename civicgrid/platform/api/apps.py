from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "civicgrid.platform.api"
    label = "api"
