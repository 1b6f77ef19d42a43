"""`catalogue search`: the public catalogue from the command line."""

from __future__ import annotations

from itertools import islice

from ._context import EXIT_OK, Context

# Pages of at most this many: the API's maximum.
MAX_PAGE = 100


def search(context: Context) -> int:
    """Print up to --limit published services matching the query and filters."""
    args = context.args
    client = context.client()
    pager = client.catalogue.search(
        args.q,
        category=args.category,
        kitemark=args.kitemark,
        scope=args.scope,
        sort=args.sort,
        limit=min(args.limit, MAX_PAGE),
    )
    listings = list(islice(pager, args.limit))
    lines = []
    for listing in listings:
        rating = listing.rating
        stars = "no ratings" if rating.mean is None else f"{rating.mean:.1f}/5 ({rating.count})"
        badges = ", ".join(badge.scheme for badge in listing.kitemarks) or "no kitemarks"
        lines.append(f"{listing.name} ({listing.slug}) by {listing.provider.name}")
        lines.append(f"  {listing.category}; {stars}; {badges}")
        lines.append(f"  {listing.summary}")
    lines.append(f"{len(listings)} service{'' if len(listings) == 1 else 's'}")
    context.emit({"items": [item.model_dump(mode="json") for item in listings]}, lines)
    return EXIT_OK
