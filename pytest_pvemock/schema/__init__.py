"""JSON Schemas generated from Proxmox VE's own API schema, and the checks built on them.

Nothing is loaded on import. Entry points:

- :func:`pytest_pvemock.schema.registry.get_registry` -> ``SchemaRegistry`` (``resolve``, ``methods_for``,
  ``endpoints``, ``children``); an ``Endpoint`` has ``check_parameters`` and ``validate_returns``;
- :func:`pytest_pvemock.schema.validation.validate_response` (also ``pytest_pvemock.validate_response``);
- ``pvemock schemas build`` / ``pvemock schemas check`` (``pytest_pvemock/cli/schemas.py``).
"""
