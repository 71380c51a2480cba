"""Record a real Proxmox VE cluster with vcrpy and replay it offline, with PVE's scrubbing and matching.

- :mod:`.recorder`: :func:`open_cassette` and :class:`RecordingOptions` (record modes, the client);
- :mod:`.filters`: what is scrubbed before a cassette is written (plain functions, extensible);
- :mod:`.matchers`: how a request finds its recorded answer (vcrpy matchers);
- :mod:`.cassette`: playback rules (task polling, no-match diffs); :mod:`.cassette_file`: the readable format;
- :mod:`.environment`: the real cluster's address and credentials, from ``PVEMOCK_*`` variables;
- :mod:`.answers`: the recorded answers of a cassette as plain data, for validation and for building a fake;
- :mod:`.validation`: recorded answers checked against PVE's schemas (``pvemock validate``);
- :mod:`.per_test`: a cassette per pytest test (paths, options from ``pvemock_vcr_config``), for the plugin.
"""
