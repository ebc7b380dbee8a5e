"""The web side of updraft: the REST API (``/api/v2``), login and roles, and the web UI.

It reads state and serialized DAGs from the metadata DB and never imports DAG-author code.
"""
