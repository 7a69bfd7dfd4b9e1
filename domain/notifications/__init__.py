"""Notifications: the outbox written with every warning change, webhooks to other systems, in-app notices,
and the event bus that feeds GraphQL subscriptions and the inbox's live updates."""
