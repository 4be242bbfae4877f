from django.apps import AppConfig


class PricingConfig(AppConfig):
    """Prices below orders: a service's unit price (price lists for periods), quotes with their
    breakdown (options, peak hours, weekends, China's holidays and 调休, travel)."""

    name = "yuyue.pricing"
    label = "pricing"
