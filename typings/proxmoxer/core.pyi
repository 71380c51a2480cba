from typing import Any

from proxmoxer import ProxmoxAPI as ProxmoxAPI
from proxmoxer import ProxmoxResource as ProxmoxResource

class ResourceException(Exception):
    status_code: int
    status_message: str
    content: str
    errors: dict[str, Any] | None
    def __init__(
        self,
        status_code: int,
        status_message: str,
        content: str,
        errors: dict[str, Any] | None = None,
        exit_code: int | None = None,
    ) -> None: ...
