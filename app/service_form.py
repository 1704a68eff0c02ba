"""What every page form shares: service errors shown beside the fields they are about."""

from __future__ import annotations

from flask_wtf import FlaskForm

from app.services.errors import ServiceError


class ServiceForm(FlaskForm):
    """A form whose rules live in a service; the form only carries values and shows errors.

    WTForms' `form_errors` holds what a service said about no field in particular (a conflict,
    a limit).
    """

    def show(self, exc: ServiceError) -> None:
        """Put each of the service's field messages beside its field, the rest on top."""
        for name, messages in exc.fields.items():
            field = self._fields.get(name)
            if field is None or name == "csrf_token":
                self.form_errors.extend(messages)
            else:
                field.errors = [*field.errors, *messages]
        if not exc.fields:
            self.form_errors.append(exc.message)
