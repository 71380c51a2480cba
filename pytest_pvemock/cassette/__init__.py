"""Cassette files as data: their readable format, the scrubbing filters applied on write, the answers they hold
and their validation against the schemas.

Nothing here sends a request: the vcrpy wiring that records and replays lives in
:mod:`pytest_pvemock.transports.recording`, and the model reads answers from here to build a fake cluster
(``FakeCluster.from_cassette``) without knowing about any transport.
"""
