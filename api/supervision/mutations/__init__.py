"""Supervision data mutations: the five ingestion entry points."""

from api.supervision.mutations.records_ingest import SupervisionMutation

__all__ = ["SupervisionMutation"]
