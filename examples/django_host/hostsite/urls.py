"""The host's pages: its own sign-in, its price alerts, and the way into Signalpost."""

from django.contrib.auth import views as auth_views
from django.urls import path

from trading import views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("alerts/", views.add_alert, name="add_alert"),
    path("alerts/<int:alert_id>/price/", views.price_update, name="price_update"),
    path("webhooks/", views.webhooks, name="webhooks"),
]
