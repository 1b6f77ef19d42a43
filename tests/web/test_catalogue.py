"""The catalogue pages: search with filters and pages, the service page, rating and complaining."""

from __future__ import annotations

import re

from tests.web.conftest import MakeVisitor, Visitor


async def test_search_filters_and_pages(demo: None, visitor: Visitor) -> None:
    r = await visitor.get("/")
    assert r.status_code == 200
    assert "Kestrel Medicines" in r.text and "Riverside Benefits Check" in r.text
    # Services waiting for review or sent back are not listed.
    assert "Fenmoor Housing Register" not in r.text
    r = await visitor.get("/?category=health")
    assert "Kestrel Medicines" in r.text and "Riverside Benefits Check" not in r.text
    r = await visitor.get("/?kitemark=clinically-safe")
    assert "Kestrel Medicines" in r.text and "Warm Homes Grant Finder" not in r.text
    r = await visitor.get("/?q=bus")
    assert "Fenmoor Concessionary Bus Pass" in r.text and "Kestrel Medicines" not in r.text
    # Pagination: the GOV.UK component, with the filters carried to the next page.
    page = await visitor.client.get("/", params={"sort": "name"})
    assert page.status_code == 200
    # (four listed services fit one page of ten: no next link)
    assert "govuk-pagination" not in page.text


async def test_pagination_carries_the_filters(demo: None, visitor: Visitor, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from web import catalogue

    original = catalogue.search.SearchQuery

    class TwoAPage(original):  # type: ignore[misc,valid-type]
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**{**kwargs, "limit": 2})

    monkeypatch.setattr(catalogue.search, "SearchQuery", TwoAPage)
    first = await visitor.get("/?sort=name")
    found = re.search(r'href="(/\?sort=name&amp;cursor=[^"]+)"', first.text)
    assert found, first.text
    second = await visitor.get(found.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and "First page" in second.text
    names = re.findall(r'href="/services/([a-z-]+)"', first.text + second.text)
    assert len(set(names)) == 4


async def test_bad_filters_are_an_error_summary_not_a_crash(visitor: Visitor) -> None:
    r = await visitor.get("/?category=weather&cursor=%%%")
    assert r.status_code == 400 and "govuk-error-summary" in r.text


async def test_service_page_shows_kitemarks_data_uses_ratings_outcomes_and_figures(
    demo: None, visitor: Visitor
) -> None:
    r = await visitor.get("/services/riverside-benefits-check")
    assert r.status_code == 200
    text = r.text
    assert "Riverside Advice Trust" in text
    assert "govuk-tag" in text and "Privacy Assured" in text and "valid until" in text
    assert "What it may see of your data" in text and "Reads " in text
    assert "Rated 4.5 out of 5 by 2 people" in text
    assert "Outcomes" in text and "2115" in text
    assert "People sharing data now" in text


async def test_unlisted_services_have_no_page(demo: None, visitor: Visitor) -> None:
    assert (await visitor.get("/services/fenmoor-housing-register")).status_code == 404
    assert (await visitor.get("/services/no-such-service")).status_code == 404


async def test_only_citizens_who_consented_may_rate(demo: None, make_visitor: MakeVisitor) -> None:
    joan = await make_visitor("citizen")
    page = "/services/riverside-benefits-check/rate"
    r = await joan.submit(page, page, {"stars": "", "comment": "Great"})
    assert (
        r.status_code == 400 and "Select how many stars" in r.text and ">Great</textarea>" in r.text
    )
    r = await joan.submit(page, page, {"stars": "4", "comment": "see https://spam.example"})
    assert r.status_code == 400 and "Links and email addresses are not allowed" in r.text
    r = await joan.submit(page, page, {"stars": "4", "comment": "Still good."})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=rated")
    # Sam never used Kestrel Medicines: refused.
    sam = await make_visitor("other_citizen")
    page = "/services/kestrel-medicines/rate"
    r = await sam.submit(page, page, {"stars": "5"})
    assert r.status_code == 403
    # Providers and signed-out visitors do not get the form.
    ada = await make_visitor("provider")
    assert (await ada.get(page)).status_code == 403
    signed_out = await make_visitor()
    assert (await signed_out.get(page)).status_code == 303


async def test_complaint_form_errors_then_sent(demo: None, make_visitor: MakeVisitor) -> None:
    sam = await make_visitor("other_citizen")
    page = "/services/kestrel-medicines/complain"
    r = await sam.submit(page, page, {"description": "bad"})
    assert r.status_code == 400
    assert "Select what your complaint is about" in r.text
    assert "at least 10 characters" in r.text and ">bad</textarea>" in r.text
    r = await sam.submit(page, page, {"category": "privacy", "description": "bell \x07 in here"})
    assert r.status_code == 400 and "control characters" in r.text
    r = await sam.submit(page, page, {"category": "privacy", "description": "x" * 5001})
    assert r.status_code == 400 and "Your complaint must be 5000 characters or fewer" in r.text
    r = await sam.submit(
        page, page, {"category": "privacy", "description": "It asked for more than it said."}
    )
    assert r.status_code == 303
    mine = await sam.client.get(
        "/v1/me/complaints",
        headers={"Authorization": f"Bearer {sam.client.cookies['govstore_session']}"},
    )
    assert [c["category"] for c in mine.json()["items"]] == ["privacy"]
