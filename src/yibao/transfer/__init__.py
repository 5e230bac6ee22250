"""Imports of households and persons from clerks' sheets, exports of the village ledger.

``imports`` reads .xlsx/.xls/.csv files with Chinese headers, validates every row with the
registry's rules and writes through the registry services; ``exports`` writes the ledger
(台账) of a village to .xlsx; ``cli`` adds ``yibao import`` and ``yibao export``.
"""
