from django.urls import include, path

urlpatterns = [path("", include("predict.urls"))]

handler400 = "predict.views.bad_request"
handler404 = "predict.views.not_found"
handler500 = "predict.views.server_error"
