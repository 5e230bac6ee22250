"""Thin views: parse the request, reach records through ``yibao.core.access``, call one
service or selector, render. No business rule lives here."""
