"""Is this a file of saved CAPI request payloads?

It is when the file starts with a JSON object and at least half of its
objects (responses saved after a request not counted) carry an events list
``"data": [`` (or the SDKs' string form ``"data": "[``) with an
``event_name``.  That keeps it apart from its neighbours:

* ``graph_api`` reads files of *responses*, some of which may carry their
  request (``{"ts":…, "response":…, "request":…}`` now and then): there,
  requests are the exception and this source scores :data:`MINORITY_SCORE`;
  where requests are the rule (every answer follows its request) this source's
  :data:`SCORE` is above anything ``graph_api`` gives NDJSON (0.8);
* Cloud Logging / Stape exports (``textPayload``, ``logName`` ...) belong to
  ``gtm_server``, store logs with a date header to their connector's source,
  and logs that also hold backend orders to the sender's own plugin: 0.
"""

from __future__ import annotations

import re

from auditor.ingest.sniff import head_text

SCORE = 0.88
MINORITY_SCORE = 0.3

_REQUEST = re.compile(r'"data"\s*:\s*(?:\[|"\[)')
_RECORD = re.compile(r"\n\{")
_RESPONSE = re.compile(r'\n\{\s*"(?:events_received|error|fbtrace_id|messages)"')
_ORDER = re.compile(r'"order"\s*:\s*\{')
_FOREIGN = ('"textPayload"', '"jsonPayload"', '"logName"', '"insertId"', '"RequestBody"', '"ResponseBody"')


def sniff(file_name: str, head_bytes: bytes) -> float:
    text = head_text(head_bytes)
    if not text.lstrip().startswith("{") or '"event_name"' not in text or '"data"' not in text:
        return 0.0
    if any(h in text for h in _FOREIGN) or _ORDER.search(text):
        return 0.0
    requests = len(_REQUEST.findall(text))
    if not requests:
        return 0.0
    lined = "\n" + text.lstrip()
    records = len(_RECORD.findall(lined)) - len(_RESPONSE.findall(lined))
    return SCORE if requests / max(records, 1) >= 0.5 else MINORITY_SCORE
