"""GraphQL for the disposal workflow: inbox, disposal detail, every step as a mutation, webhooks, and the
`warningEvents(departmentCode)` subscription."""
