"""Built-in rulesets shipped as package data (import name ``capi_auditor_rulesets``)."""
