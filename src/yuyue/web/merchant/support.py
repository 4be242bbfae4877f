"""The merchant's support desk: customers' conversations with the shop, those with unread
messages first (`engagement.chat.support_queue`); every staff role answers, in the chat page."""

from __future__ import annotations

from django.shortcuts import render

from yuyue.core.timeutil import zone
from yuyue.engagement import chat

from .desk import Desk, desk_page


@desk_page
def support_queue(request, desk: Desk):
    rows = chat.support_queue(actor=request.user, merchant_id=desk.merchant.pk)
    return render(
        request,
        "web/chat/queue.html",
        {
            "desk": desk,
            "rows": rows,
            "zone": zone(desk.merchant.timezone),
            "nav": "web/merchant/_nav.html",
        },
    )
