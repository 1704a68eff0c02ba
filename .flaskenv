# The development settings of `make run`, for every `flask --app app ...` command run in this
# checkout (Flask reads this file through python-dotenv; make run gives them to the worker and
# beat too). A variable already set in the environment wins. gunicorn and celery never read it;
# in production also set FLASK_SKIP_DOTENV=1 so that the flask command ignores it.
WEBHOOK_REQUIRE_HTTPS=false
WEBHOOK_ALLOW_PRIVATE_TARGETS=true
