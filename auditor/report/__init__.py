"""Report building (one redacted dict) and its renderers (json, table, markdown, html)."""
