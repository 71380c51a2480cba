"""Cluster nodes: the node itself (``node.py``) and what it holds: files, journal, services."""
