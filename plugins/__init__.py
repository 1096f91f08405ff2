"""Built-in plugins of capi-auditor (installed as ``capi_auditor_plugins``).

Each module here is an ordinary plugin registered through the ``capi_auditor``
entry-point group and written only against the public hook API in
:mod:`auditor.hookspecs`, exactly as a third-party plugin would be.
"""
