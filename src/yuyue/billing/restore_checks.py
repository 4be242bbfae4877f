"""What a restored database must show of the ledger (`yuyue.core.backups.after_restore`)."""

from __future__ import annotations

from django.db.models import F, Sum
from django.db.models.functions import Coalesce

from yuyue.core.backups import after_restore

from .ledger import unbalanced_transfers
from .models import LedgerAccount


@after_restore("ledger")
def ledger_balances(alias: str) -> list[str]:
    """Every transfer's entries sum to zero; every account's balance is the sum of its entries."""
    problems = []
    unbalanced = unbalanced_transfers(using=alias)[:10]
    if unbalanced:
        problems.append(f"transfers whose entries do not sum to zero: {unbalanced}")
    drifted = list(
        LedgerAccount.objects.using(alias)
        .annotate(total=Coalesce(Sum("entries__amount"), 0))
        .exclude(balance=F("total"))
        .values_list("pk", flat=True)[:10]
    )
    if drifted:
        problems.append(f"accounts whose balance is not the sum of their entries: {drifted}")
    return problems
