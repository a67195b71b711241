from django.urls import path
from predict import plain_views, views

urlpatterns = [
    path("", views.PredictionFormView.as_view(), name="form"),
    path("health", plain_views.HealthView.as_view(), name="health"),
    path("api/predict", plain_views.PredictView.as_view(), name="predict"),
    path("openapi.json", plain_views.OpenAPIView.as_view(), name="openapi"),
]
