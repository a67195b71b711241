from django import forms

from shared_model.model import LoadedModel


def prediction_form_class(model: LoadedModel) -> type[forms.Form]:
    """A Django form with one number field per model feature."""
    fields = {
        feature["name"]: forms.FloatField(
            initial=feature["default"],
            widget=forms.NumberInput(
                attrs={"step": "any", "min": feature["min"], "max": feature["max"]}
            ),
        )
        for feature in model.metadata["features"]
    }
    return type("PredictionForm", (forms.Form,), fields)
