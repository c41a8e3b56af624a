"""The verifier web service. ``create_app`` builds the Flask app; see verify_server.app."""

from verify_server.app import create_app

__all__ = ["create_app"]
