"""The review pipeline: automated checks, the human review queue, review jobs (issue #3).

It builds on the foundation in `marketplace/` (the release state machine lives with the release
model in `marketplace.releases.lifecycle`, because withdrawal is a foundation endpoint).
"""
