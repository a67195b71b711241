from django.urls import path
from predict import views

urlpatterns = [
    path("", views.PredictionFormView.as_view(), name="form"),
    path("health", views.HealthView.as_view(), name="health"),
    path("api/predict", views.PredictView.as_view(), name="predict"),
    path("openapi.json", views.OpenAPIView.as_view(), name="openapi"),
]
