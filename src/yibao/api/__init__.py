"""The JSON REST API at ``/api/v1/`` (django-ninja) over the registry and collection services.

Endpoints are thin: a ninja schema parses the request, one ``access_*`` function reaches the
protected record in the actor's village scope, one service or selector does the work, and a
schema renders the answer. Every refusal is rendered by one handler (:mod:`yibao.api.errors`).
"""
