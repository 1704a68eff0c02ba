"""A price alert: fires once, when the price crosses its target in its direction."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone


class PriceAlert(models.Model):
    class Condition(models.TextChoices):
        ABOVE = "above", "Above"
        BELOW = "below", "Below"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    symbol = models.CharField(max_length=12)
    condition = models.CharField(max_length=5, choices=Condition.choices)
    target_price = models.DecimalField(max_digits=14, decimal_places=4)
    current_price = models.DecimalField(max_digits=14, decimal_places=4, null=True)
    currency = models.CharField(max_length=3, default="USD")
    triggered_at = models.DateTimeField(null=True)
    event_id = models.CharField(max_length=40, blank=True)

    def crossed(self, price: Decimal) -> bool:
        if self.condition == self.Condition.ABOVE:
            return price >= self.target_price
        return price <= self.target_price

    def update_price(self, price: Decimal) -> bool:
        """Record the price; True when this update triggers the alert (only ever once)."""
        self.current_price = price
        if self.triggered_at is None and self.crossed(price):
            self.triggered_at = timezone.now()
            return True
        return False
