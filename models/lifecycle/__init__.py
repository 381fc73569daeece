"""The case lifecycle's rules as pure functions and data: which action is allowed in which
stage and for which role, the case's state, and the deadline book. Workflow-safe: standard
library, pydantic and models.policy / models.payloads only."""
