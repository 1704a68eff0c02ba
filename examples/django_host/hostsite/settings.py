"""Settings of the example host, from the environment (see ../README.md).

SIGNALPOST_URL and SIGNALPOST_KEY (an operator key, `flask keys create NAME`) say which
Signalpost this host talks to; the key stays here, on the server, and never reaches a browser.
"""

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# A key made at each start when none is given: sessions then end when the process does,
# which is right for an example and never leaves a secret in the code.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = os.environ.get("DJANGO_DEBUG", "false").lower() == "true"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

SIGNALPOST_URL = os.environ.get("SIGNALPOST_URL", "http://127.0.0.1:5000")
SIGNALPOST_KEY = os.environ.get("SIGNALPOST_KEY", "")
# Prepended to the user's id to make the tenant id, e.g. "trading:" when several of your
# applications share one Signalpost.
SIGNALPOST_TENANT_PREFIX = os.environ.get("SIGNALPOST_TENANT_PREFIX", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "trading",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hostsite.urls"
WSGI_APPLICATION = "hostsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DATABASE") or BASE_DIR / "host.sqlite3",
    }
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"trading": {"handlers": ["console"], "level": "INFO"}},
}
