from django.apps import AppConfig

from shared_model.model import LoadedModel, load_model


class PredictConfig(AppConfig):
    name = "predict"
    model: LoadedModel
    form_class: type

    def ready(self) -> None:
        from .forms import prediction_form_class

        # Load (and checksum) once per worker at start-up, so a bad artifact stops the server
        # from starting instead of failing the first request; build the form class once too.
        self.model = load_model()
        self.form_class = prediction_form_class(self.model)
