"""What several test modules share: clients of the fake, the capture server that stands in for a real PVE, the
rig that calls every method of the schema. Fixtures built on them live in ``tests/conftest.py``."""
