"""Integration mutations."""

from api.integration.mutations.data_source_create import IntegrationMutation

__all__ = ["IntegrationMutation"]
