"""Run every story in order (each has its own fixed seed), then write the README.
"""

from __future__ import annotations

from .readme import make_readme
from .stories.agency import story_agency
from .stories.broken_after_update import story_broken_after_update
from .stories.export_zip import story_export_zip
from .stories.graph_api import story_graph_api
from .stories.healthy import story_healthy
from .stories.inhouse_payloads import story_inhouse_payloads
from .stories.magento import story_magento
from .stories.nordic import story_nordic
from .stories.queued_shop import story_queued_shop
from .stories.token_expired import story_token_expired


def main():
    facts = {}
    story_healthy(facts)
    story_token_expired(facts)
    story_broken_after_update(facts)
    story_export_zip(facts)
    story_graph_api(facts)
    story_queued_shop(facts)
    story_nordic(facts)
    story_agency(facts)
    story_inhouse_payloads(facts)
    story_magento(facts)
    make_readme(facts)
