"""vcrpy's cassette with PVE's playback rules.

- Identical requests (a client polling ``/nodes/{node}/tasks/{upid}/status``) get their recorded answers in
  order; once those are used up, the last one repeats, so a replayed wait loop ends where the recording ended.
- While recording, a login (``POST /access/ticket``) always reaches the real cluster: the recorded ticket is
  scrubbed and would not authenticate the requests that follow.
- A request without a recorded answer fails with :class:`CassetteMismatchError`: the closest recorded request, a
  diff against it, and the command that records the missing answer.
- With the default matchers, answers are found through an index instead of by comparing with every recording.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable
from typing import Any

from vcr.cassette import Cassette
from vcr.errors import CannotOverwriteExistingCassetteException, UnhandledHTTPRequestError
from vcr.matchers import requests_match
from vcr.record_mode import RecordMode

from pytest_pvemock.transports.recording import matchers as pve_matchers

_DEFAULT_MATCHER_NAMES = pve_matchers.DEFAULT_MATCH_ON


def is_login(method: str, uri: str) -> bool:
    return method.upper() == "POST" and pve_matchers.request_path(uri).endswith("/access/ticket")


def _similarity(sent: Any, recorded: Any) -> tuple[int, float]:
    """How close a recorded request is to the one sent: parts equal, then how alike the paths read."""
    sent_key = pve_matchers.request_key(sent.method, sent.uri, sent.body)
    recorded_key = pve_matchers.request_key(recorded.method, recorded.uri, recorded.body)
    equal_parts = sum(2 if i == 1 else 1 for i in range(4) if sent_key[i] == recorded_key[i])
    path_ratio = difflib.SequenceMatcher(None, sent_key[1], recorded_key[1]).ratio()
    return equal_parts, path_ratio


class CassetteMismatchError(CannotOverwriteExistingCassetteException):
    """A request the cassette has no answer for, while the record mode forbids recording it."""

    def __init__(self, cassette: PveCassette, request: Any) -> None:
        self.cassette = cassette
        self.failed_request = request
        self.similar_requests = []
        self.reason = "no_match"
        sent = pve_matchers.describe_request(request.method, request.uri, request.body)
        lines = [
            f"pytest-pvemock: the cassette {cassette.path} has no recorded answer for this request:",
            "    " + sent.replace("\n", "\n    "),
        ]
        closest = cassette.closest_request(request)
        if closest is not None:
            recorded = pve_matchers.describe_request(closest.method, closest.uri, closest.body)
            diff = difflib.unified_diff(
                recorded.splitlines(), sent.splitlines(), "closest recorded request", "this request", lineterm=""
            )
            lines.append("It differs from the closest recorded request:")
            lines.extend("    " + line for line in diff)
        elif not len(cassette):
            lines.append("The cassette holds no interactions.")
        lines.append(cassette.rerecord_hint or "Record it again with --pvemock-record-mode=new_episodes.")
        Exception.__init__(self, "\n".join(lines))


class PveCassette(Cassette):
    """A vcrpy cassette with PVE's playback rules (see the module's documentation)."""

    def __init__(self, *args: Any, rerecord_hint: str = "", recording: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rerecord_hint = rerecord_hint
        self.recording = recording
        names = tuple(getattr(matcher, "__name__", "") for matcher in self._match_on)
        self._indexed = names == _DEFAULT_MATCHER_NAMES
        self._index: dict[Hashable, list[int]] = {}
        self._index_size = 0
        self._last_lookup: tuple[Any, list[int]] | None = None

    @property
    def path(self) -> str:
        """The cassette file (vcrpy 9 has this property; older releases only ``_path``)."""
        return str(self._path)

    # ---------------------------------------------------------------------------------------------- lookup

    def _refresh_index(self) -> None:
        while self._index_size < len(self.data):
            stored = self.data[self._index_size][0]
            key = pve_matchers.request_key(stored.method, stored.uri, stored.body)
            self._index.setdefault(key, []).append(self._index_size)
            self._index_size += 1

    def matching_indices(self, request: Any) -> list[int]:
        """Indices in ``self.data`` of the recordings that answer ``request``, oldest first."""
        if self._last_lookup is not None and self._last_lookup[0] is request and self._index_size == len(self.data):
            return self._last_lookup[1]
        filtered = self._before_record_request(request)
        if not filtered:
            indices: list[int] = []
        elif self._indexed:
            self._refresh_index()
            indices = self._index.get(pve_matchers.request_key(filtered.method, filtered.uri, filtered.body), [])
        else:
            indices = [
                index for index, (stored, _) in enumerate(self.data) if requests_match(filtered, stored, self._match_on)
            ]
        self._last_lookup = (request, indices)
        return indices

    def closest_request(self, request: Any) -> Any | None:
        best, best_score = None, (0, 0.0)
        for stored, _ in self.data:
            score = _similarity(request, stored)
            if score > best_score:
                best, best_score = stored, score
        return best

    # ---------------------------------------------------------------------------------------------- vcrpy API

    def can_play_response_for(self, request: Any) -> bool:
        if self.record_mode == RecordMode.ALL:
            return False
        if self.recording and is_login(request.method, request.uri):
            return False
        if self.matching_indices(request) and (self.rewound or self.allow_playback_repeats):
            return True
        if self.write_protected and self._before_record_request(request):
            raise CassetteMismatchError(self, request)
        return False

    def play_response(self, request: Any) -> dict[str, Any]:
        indices = self.matching_indices(request)
        if not indices:
            described = pve_matchers.describe_request(request.method, request.uri, request.body)  # secrets masked
            raise UnhandledHTTPRequestError(f"The cassette ({self._path!r}) doesn't contain the request {described}")
        chosen = next((index for index in indices if self.play_counts[index] == 0), indices[-1])
        played = getattr(self, "_played_interactions", None)  # vcrpy's record of them, for drop_unused_requests
        if played is not None and self.play_counts[chosen] == 0 and chosen < getattr(self, "_loaded_count", 0):
            played.append(self.data[chosen])
        self.play_counts[chosen] += 1
        return self.data[chosen][1]

    def __contains__(self, request: Any) -> bool:
        return bool(self.matching_indices(request))
