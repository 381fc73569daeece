"""Thin activity adapters: load and save through models/, return DTOs. No business rules."""
