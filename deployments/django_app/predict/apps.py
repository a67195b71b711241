from django.apps import AppConfig

from shared_model.model import LoadedModel, load_model


class PredictConfig(AppConfig):
    name = "predict"
    model: LoadedModel

    def ready(self) -> None:
        # Load (and checksum) once per worker at start-up, so a bad artifact stops the server
        # from starting instead of failing the first request.
        self.model = load_model()
