"""PVE's JSON shapes, as pure functions of the model's facts.

The model holds state (guests, nodes, storages, pools, HA, the clock); these modules render what the API answers
from it: ``/cluster/resources`` and the entries other endpoints share (:mod:`.resources`), a guest's list row and
``status/current`` (:mod:`.guest_status`). What is costly to render is kept in one cache per cluster
(:mod:`.cache`), keyed on the cluster's revision, its clock and its release.
"""
