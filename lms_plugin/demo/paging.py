"""Page numbers and RFC 8288 ``Link`` headers for the service containers."""

from urllib.parse import urlencode

from lms_plugin.demo.oauth import ServiceError


def page_args(args, default_limit: int, max_limit: int) -> tuple[int, int]:
    """(limit, page) from ``?limit=&page=``, clamped to sane values."""
    try:
        limit = int(args.get("limit", default_limit))
        page = int(args.get("page", 1))
    except ValueError:
        raise ServiceError(
            "invalid_request", "limit and page must be integers"
        ) from None
    return max(1, min(limit, max_limit)), max(1, page)


def link_header(url: str, args, limit: int, page: int, total: int) -> str:
    """``Link`` header values for first/next/prev of this container page."""
    kept = {key: value for key, value in args.items() if key not in ("page", "limit")}

    def page_url(number: int) -> str:
        return f"{url}?{urlencode({**kept, 'limit': limit, 'page': number})}"

    links = [f'<{page_url(1)}>; rel="first"']
    if page * limit < total:
        links.append(f'<{page_url(page + 1)}>; rel="next"')
    if page > 1:
        links.append(f'<{page_url(page - 1)}>; rel="prev"')
    return ", ".join(links)
