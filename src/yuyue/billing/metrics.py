"""Billing's counters for Prometheus (yuyue.core.metrics): money in and money back."""

from yuyue.core.metrics import counter

PAYMENTS = counter(
    "yuyue_payments_total",
    "Payments confirmed or declined, by gateway and outcome",
    ["gateway", "outcome"],
)
PAID_FEN = counter("yuyue_payments_fen_total", "Fen paid, by gateway", ["gateway"])
REFUNDS = counter("yuyue_refunds_total", "Refunds claimed, by gateway", ["gateway"])
REFUNDED_FEN = counter("yuyue_refunds_fen_total", "Fen refunded, by gateway", ["gateway"])
