"""Record a real Proxmox VE cluster with vcrpy and replay it offline, with PVE's scrubbing and matching.

- :mod:`.recorder`: :func:`open_cassette` and :class:`RecordingOptions` (record modes, the client);
- :mod:`.matchers`: how a request finds its recorded answer (vcrpy matchers);
- :mod:`.cassette`: playback rules (task polling, no-match diffs);
- :mod:`.environment`: the real cluster's address and credentials, from ``PVEMOCK_*`` variables;
- :mod:`.per_test`: a cassette per pytest test (paths, options from ``pvemock_vcr_config``), for the plugin.

The cassette files themselves (format, scrubbing filters, answers, validation) are data and live in
:mod:`pytest_pvemock.cassette`.
"""
