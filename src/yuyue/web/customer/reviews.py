"""The customer's review of a finished order: stars for the service, the provider and the
category's dimensions, a few words, photos, anonymous if they like (`engagement.reviews`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from yuyue.core.errors import DomainError
from yuyue.engagement import reviews
from yuyue.engagement.models import Review, ReviewPhoto, ReviewStatus
from yuyue.orders.models import Booking
from yuyue.web.helpers import uploaded_pictures


def _score(raw):
    return int(raw) if raw and raw.isdigit() else None


@login_required(login_url="customer:sign-in")
def write(request, booking_id: int):
    booking = (
        Booking.objects.select_related("service__category", "provider", "merchant")
        .filter(pk=booking_id, customer=request.user)
        .first()
    )
    if booking is None:
        raise Http404
    if Review.objects.filter(booking=booking).exists():
        return HttpResponseRedirect(reverse("customer:booking", args=[booking.pk]))
    dimensions = reviews.dimensions_of(booking)
    error = None
    if request.method == "POST":
        try:
            photos = uploaded_pictures(request, "photos")
            reviews.write_review(
                actor=request.user,
                booking_id=booking.pk,
                service_score=_score(request.POST.get("service_score")),
                provider_score=_score(request.POST.get("provider_score")),
                dimensions={
                    d["key"]: _score(request.POST.get(f"dim-{d['key']}"))
                    for d in dimensions
                    if request.POST.get(f"dim-{d['key']}")
                },
                text=request.POST.get("text", ""),
                anonymous=bool(request.POST.get("anonymous")),
                photos=photos,
            )
        except DomainError as exc:
            error = exc.message()
        else:
            return HttpResponseRedirect(reverse("customer:booking", args=[booking.pk]) + "#review")
    return render(
        request,
        "web/customer/review.html",
        {
            "booking": booking,
            "dimensions": dimensions,
            "error": error,
            "kept": request.POST if request.method == "POST" else {},
            "stars": range(5, 0, -1),
            "reviewable": reviews.reviewable(booking),
        },
    )


def photo(request, photo_id: int):
    """A photo of a published review: public, as the review is; of another one, only to its
    writer and operators."""
    found = ReviewPhoto.objects.select_related("review").filter(pk=photo_id).first()
    if found is None:
        raise Http404
    review = found.review
    if review.status != ReviewStatus.PUBLISHED and not (
        request.user.is_authenticated
        and (request.user.pk == review.customer_id or request.user.is_operator)
    ):
        raise Http404
    response = FileResponse(found.file.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = (
        "public, max-age=86400" if review.status == "published" else "private, no-store"
    )
    return response
