"""Account forms. They carry values; `app.services.users` decides what is valid."""

from __future__ import annotations

from wtforms import EmailField, PasswordField, StringField, SubmitField

from app.service_form import ServiceForm


class RegisterForm(ServiceForm):
    email = EmailField("Email")
    password = PasswordField(
        "Password", description="At least 8 characters, and hard to guess: several words work."
    )
    submit = SubmitField("Create account")


class SignInForm(ServiceForm):
    email = EmailField("Email")
    password = PasswordField("Password")
    submit = SubmitField("Sign in")


class TokenForm(ServiceForm):
    name = StringField("Name", description="What will use it, e.g. “trading bot”.")
    submit = SubmitField("Create token")


class ForgotPasswordForm(ServiceForm):
    email = EmailField("Email")
    submit = SubmitField("Send a reset link")


class ResetPasswordForm(ServiceForm):
    password = PasswordField(
        "New password", description="At least 8 characters, and hard to guess: several words work."
    )
    submit = SubmitField("Set the new password")
