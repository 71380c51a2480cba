from collections.abc import Callable, Sequence

from vcr.request import Request

def requests_match(r1: Request, r2: Request, matchers: Sequence[Callable[[Request, Request], None]]) -> bool: ...
