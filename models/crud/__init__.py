"""Keyword-only, typed database functions over the tables, used by activities and the API."""
