"""A deliberately broken third-party plugin: its parser raises.

It claims files named *.broken; the tests check that the failure is named and
contained, and that --strict turns it into exit code 2.
"""

from auditor import Source, hookimpl

PLUGIN_NAME = "broken_parser"


def sniff(name, head):
    return 1.0 if name.endswith(".broken") else 0.0


def parse(batch, ctx):
    raise RuntimeError("parser exploded on customer maria.silva@example.com")


@hookimpl
def capi_auditor_register_sources(register):
    register(Source(name="broken", sniff=sniff, parse=parse))
