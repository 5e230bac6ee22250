"""Serving the application: gunicorn with whitenoise, the production safety check, ``yibao serve``."""
