"""The web pages: GOV.UK Design System pages for citizens, providers and reviewers."""
