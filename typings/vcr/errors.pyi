from typing import Any

class CannotOverwriteExistingCassetteException(Exception):
    cassette: Any
    failed_request: Any
    similar_requests: list[Any]
    reason: str
    def __init__(self, *args: Any, **kwargs: Any) -> None: ...

class UnhandledHTTPRequestError(KeyError): ...
