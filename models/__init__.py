"""Kurator's data: workflow-safe payloads, policy as data, and the SQLModel tables with CRUD.

Payload modules never import table modules, so workflow code can import payloads inside the
sandbox without defining tables twice.
"""
