from django.apps import AppConfig

from shared_model.model import LoadedModel, load_model
from shared_model.openapi import openapi_document


class PredictConfig(AppConfig):
    name = "predict"
    model: LoadedModel
    form_class: type
    api_document: dict

    def ready(self) -> None:
        from .forms import prediction_form_class

        # Load (and checksum) once per worker at start-up, so a bad artifact stops the server
        # from starting instead of failing the first request; build the form and the OpenAPI
        # document once too.
        self.model = load_model()
        self.form_class = prediction_form_class(self.model)
        self.api_document = openapi_document(self.model.metadata)
