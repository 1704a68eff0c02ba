"""Errors a service raises for bad input; pages, API and CLI each present them their own way."""

from __future__ import annotations


class ServiceError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationError(ServiceError):
    code = "validation_error"
    status = 422

    @classmethod
    def from_fields(cls, fields: dict[str, list[str]]) -> ValidationError:
        summary = "; ".join(f"{name}: {' '.join(problems)}" for name, problems in fields.items())
        return cls(summary, fields)


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Conflict(ServiceError):
    code = "conflict"
    status = 409


class Gone(ServiceError):
    code = "gone"
    status = 410


class PayloadTooLarge(ServiceError):
    code = "payload_too_large"
    status = 413


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403


class AccountDisabled(Forbidden):
    """An admin disabled the user (app/services/users.py:set_disabled)."""

    code = "account_disabled"
