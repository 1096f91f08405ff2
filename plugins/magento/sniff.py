"""Is this the Magento extension's log?

Monolog headers (``[2021-03-01 10:00:00] FBE.INFO: ``) and either the
extension's channel ``FBE`` or a Meta marker (the Graph endpoint, ``Sending
event``).  Scores stay above ``graph_api``'s (at most 0.8 for a text log,
whose Guzzle ``(truncated...)`` lines it would otherwise claim) and below the
capture score it keeps for HTTP captures, which never look like this.
"""

from __future__ import annotations

import re

from auditor.ingest.sniff import head_text

from .patterns import ENTRY_START

_HEADER = re.compile("\n" + ENTRY_START.removeprefix("^"))
_FBE = re.compile(r"\n\[[^\]\n]{19,40}\] FBE\.[A-Z]+: ")
_MARKERS = ("graph.facebook.com", "Sending event ", "Facebook\\BusinessExtension", "Meta\\BusinessExtension",
            "facebook-business-extension")
#: The PHP SDK's namespace counts only in a Magento log (channel ``main``, Magento
#: paths): any PHP app using the SDK (Laravel ``production.ERROR`` ...) logs it through Monolog.
_SDK = "FacebookAds\\"
_MAGENTO = ("] main.", "/app/code/", "Magento\\", "/vendor/magento/")


def sniff(file_name: str, head_bytes: bytes) -> float:
    text = head_text(head_bytes)
    lined = "\n" + text.lstrip()
    if _HEADER.search(lined) is None:
        return 0.0
    if _FBE.search(lined):
        return 0.9
    if any(m in text for m in _MARKERS) or (_SDK in text and any(m in text for m in _MAGENTO)):
        return 0.85  # Magento's system.log / exception.log with the extension's errors
    return 0.0
