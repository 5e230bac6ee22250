"""yibao: 城乡居民基本医疗保险参保征缴 — policy engine, ledger and web application."""

__version__ = "0.1.0"
