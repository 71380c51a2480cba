"""Who may do what: users and their API tokens (``users.py``), roles, groups and ACL entries (``acl.py``)."""
