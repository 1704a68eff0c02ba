from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User

from trading.models import PriceAlert


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=True)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class AlertForm(forms.ModelForm):
    class Meta:
        model = PriceAlert
        fields = ("symbol", "condition", "target_price", "currency")


class PriceForm(forms.Form):
    price = forms.DecimalField(max_digits=14, decimal_places=4, min_value=0)
