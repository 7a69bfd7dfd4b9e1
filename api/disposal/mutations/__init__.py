"""Disposal mutations."""

from __future__ import annotations

import strawberry

from api.disposal.mutations.feedback_submit import FeedbackMutation
from api.disposal.mutations.warning_steps import WarningStepsMutation
from api.disposal.mutations.webhook_save import WebhookMutation

__all__ = ["DisposalMutation"]


@strawberry.type
class DisposalMutation(WarningStepsMutation, FeedbackMutation, WebhookMutation):
    pass
