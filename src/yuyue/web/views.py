from django.http import Http404, HttpResponse
from django.shortcuts import render

from yuyue.catalog.models import Merchant, MerchantStatus


def home(request):
    merchants = (
        Merchant.objects.filter(status=MerchantStatus.ACTIVE)
        .prefetch_related("services", "halls")
        .order_by("name")
    )
    return render(request, "web/home.html", {"merchants": merchants})


def booking_qr(request, code: str):
    import segno

    from yuyue.core.codes import CHECKIN_ALPHABET, CHECKIN_LENGTH

    # Drawn from the code alone, without asking the database: the image tells nobody whether a
    # code exists.
    if len(code) != CHECKIN_LENGTH or set(code) - set(CHECKIN_ALPHABET):
        raise Http404
    qr = segno.make(code, error="m")
    response = HttpResponse(qr.svg_inline(scale=8), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response
