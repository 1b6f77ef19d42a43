"""Sign in and register: errors in the GOV.UK error summary, nothing the visitor typed is lost."""

from __future__ import annotations

from tests.web.conftest import Visitor


async def test_sign_in_errors_are_summarised_and_keep_the_email(
    demo: None, visitor: Visitor
) -> None:
    r = await visitor.submit("/sign-in", "/sign-in", {"email": "", "password": ""})
    assert r.status_code == 400
    assert "govuk-error-summary" in r.text and 'href="#email"' in r.text
    assert "Enter your email address" in r.text and "Enter your password" in r.text
    assert r.text.count("<title>Error: ") == 1

    r = await visitor.submit(
        "/sign-in", "/sign-in", {"email": "joan.pritchard@inbox.example", "password": "wrong"}
    )
    assert r.status_code == 400
    assert "Enter a correct email address and password" in r.text
    assert 'value="joan.pritchard@inbox.example"' in r.text
    assert "wrong" not in r.text.split("<main")[1]  # the password is never sent back


async def test_register_keeps_what_was_typed_and_says_what_to_fix(visitor: Visitor) -> None:
    r = await visitor.submit(
        "/register",
        "/register",
        {
            "display_name": "Ann Example",
            "email": "ann@example.com",
            "password": "short",
            "role": "citizen",
        },
    )
    assert r.status_code == 400
    assert "Password must be at least 12 characters" in r.text
    assert 'value="Ann Example"' in r.text and 'value="ann@example.com"' in r.text
    r = await visitor.submit(
        "/register",
        "/register",
        {"display_name": "", "email": "ann@example.com", "password": "x", "role": "admin"},
    )
    assert "Enter your name" in r.text and "Select what you will use GovStore for" in r.text
    # The limits are the API's own (AccountCreate), in the page's words.
    r = await visitor.submit(
        "/register",
        "/register",
        {
            "display_name": "A" * 101,
            "email": "a" * 250 + "@example.com",
            "password": "correct horse battery staple",
            "role": "citizen",
        },
    )
    assert r.status_code == 400
    assert "Your name must be 100 characters or fewer" in r.text
    assert "Your email address must be 254 characters or fewer" in r.text
    r = await visitor.submit(
        "/register",
        "/register",
        {"display_name": "   ", "email": "ann@example.com", "password": "x", "role": "citizen"},
    )
    assert r.status_code == 400 and "Enter your name" in r.text


async def test_register_signs_the_new_citizen_in(visitor: Visitor) -> None:
    r = await visitor.submit(
        "/register",
        "/register",
        {
            "display_name": "Ann Example",
            "email": "ann@example.com",
            "password": "correct horse battery staple",
            "role": "citizen",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/account"
    page = await visitor.get("/account")
    assert page.status_code == 200 and "No service can see your data now" in page.text
    again = await visitor.submit(
        "/register",
        "/register",
        {
            "display_name": "Ann Again",
            "email": "ANN@example.com",
            "password": "correct horse battery staple",
            "role": "citizen",
        },
    )
    assert again.status_code == 400 and "already exists" in again.text
