"""Disposal pages (处置工作台): the department inbox, the disposal panel of a warning, evidence, webhooks."""
