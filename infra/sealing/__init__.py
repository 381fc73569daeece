"""Sealing a family's personal data: per-family data keys wrapped by a master key, and the
AES-256-GCM envelopes that Temporal payloads and PostgreSQL's free-text fields are stored in
(PRODUCT.md §5). One family key governs all of a family's data wherever it lies, so destroying
it erases the family everywhere at once (crypto-shredding)."""
