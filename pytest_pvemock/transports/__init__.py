"""Transports: how requests from real client libraries (or a real socket) reach the API layer."""
