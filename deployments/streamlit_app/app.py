"""Streamlit deployment: the same inputs, defaults and prediction as the HTML form."""

import streamlit as st

from shared_model.model import LoadedModel, load_model, predict
from shared_model.schema import InputError, validate_instance

# The smallest shim for the 2022 stack: Streamlit before 1.18 named it st.experimental_singleton.
cache_resource = getattr(st, "cache_resource", None) or st.experimental_singleton


@cache_resource
def shared_model() -> LoadedModel:
    return load_model()


model = shared_model()
st.title("Iris classifier")
st.caption(f"Model {model.summary['name']} v{model.summary['version']}, served by Streamlit.")

with st.form("prediction"):
    values = {
        feature["name"]: st.number_input(
            feature["name"],
            min_value=feature["min"],
            max_value=feature["max"],
            value=feature["default"],
            step=0.1,
            format="%.2f",
        )
        for feature in model.metadata["features"]
    }
    submitted = st.form_submit_button("Predict")

if submitted:
    try:
        result = predict(model, [validate_instance(values, model.feature_names)])[0]
    except InputError as error:
        st.error(error.message)
    else:
        st.subheader(f"Prediction: {result['label']}")
        st.json(result["probabilities"])
