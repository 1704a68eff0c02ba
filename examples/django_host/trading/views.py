"""The host's pages. "Webhooks" sends the user into Signalpost through a sign-in link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from signalpost_client import SignalpostError

from trading import signalpost
from trading.forms import AlertForm, PriceForm, SignupForm
from trading.models import PriceAlert


@login_required
def home(request):
    """The user's price alerts, a form for a new one, and a price update for each."""
    alerts = PriceAlert.objects.filter(user=request.user).order_by("pk")
    return render(
        request, "trading/home.html", {"alerts": alerts, "form": AlertForm(), "price": PriceForm()}
    )


def signup(request):
    """A new account; signing in makes its Signalpost tenant (trading.signalpost)."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.save())
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_POST
def add_alert(request):
    form = AlertForm(request.POST)
    if form.is_valid():
        alert = form.save(commit=False)
        alert.user = request.user
        alert.save()
    else:
        messages.error(request, f"Alert not saved: {form.errors.as_text()}")
    return redirect("home")


@login_required
@require_POST
def price_update(request, alert_id: int):
    """A new price for the alert's symbol; when it crosses the target, the alert fires."""
    alert = get_object_or_404(PriceAlert, pk=alert_id, user=request.user)
    form = PriceForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Price not recorded: {form.errors.as_text()}")
        return redirect("home")
    fired = alert.update_price(form.cleaned_data["price"])
    alert.save()
    if fired:
        try:
            sent = signalpost.fire_price_alert(alert)
        except SignalpostError as exc:
            # The alert stays triggered, with no event id, and this example does not send it
            # again. A host that does (a task retrying fire_price_alert) is safe: the key names
            # the alert, so if this attempt did reach Signalpost, the retry delivers nothing more.
            messages.error(request, f"{alert.symbol} alert fired, not yet sent: {exc}")
        else:
            alert.event_id = sent.id
            alert.save(update_fields=["event_id"])
            messages.success(request, f"{alert.symbol} alert fired: {sent.deliveries} webhook(s).")
    return redirect("home")


@login_required
def webhooks(request):
    """The "Webhooks" menu item: a fresh single-use sign-in link, and a redirect to it."""
    try:
        signalpost.put_tenant(request.user)  # in case Signalpost was away at sign-in
        link = signalpost.client().sign_in_link(
            signalpost.tenant_id(request.user), return_to="/webhooks"
        )
    except SignalpostError as exc:
        return render(request, "trading/unavailable.html", {"error": exc}, status=503)
    return redirect(link.url)
