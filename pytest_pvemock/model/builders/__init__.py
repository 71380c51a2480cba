"""How a cluster comes to be: from a YAML scenario (``scenario.py``) or from recorded answers
(``from_recording.py``); and back: a cluster as the scenario that builds it again (``scenario_dump.py``)."""
