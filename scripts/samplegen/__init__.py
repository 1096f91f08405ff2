"""The sample-log generator behind scripts/make_sample_logs.py.

    python3 scripts/make_sample_logs.py

Standard library only. Every random choice comes from a fixed-seed
``random.Random`` per story and all timestamps are fixed 2026 dates, so
re-running the script rewrites every file byte for byte (gzip/zip headers use
fixed mtimes). sample_logs/README.md is generated too, with the
first/last-seen times and counts taken from the data that was just written.

The formats are the real ones of each source (the main README, "What it
reads") and the upstream code that writes them:

* WooCommerce file handler v1 (legacy): ``MM-DD-YYYY @ HH:MM:SS - <message>``
  in site-local time, every entry followed by PHP_EOL (so multi-line
  Request/Response messages, which already end in a newline, are followed by a
  blank line; single-line messages are not).
* WooCommerce file handler v2: ``<gmdate('c')> <LEVEL> <message>``; for
  ``WC_Logger::add()`` callers (plugin <= 3.4.x) the handler appends
  `` CONTEXT: {"_legacy":true}`` to the message. Request/Response messages end
  in a newline, so the suffix lands on its own line starting with a space.
* Meta for WooCommerce request/response entries: ``key: value`` lines, print_r
  header blocks, ``body:`` JSON encoded like PHP's json_encode (``\\/`` and
  ``\\uXXXX`` escapes), ``duration: <round(s, 5)>s``.

Layout:

* :mod:`.formats` - timestamps, JSON encodings, ids, file writing (and the
  WooCommerce Request/Response writer, see below);
* :mod:`.shops` - user agents, locales, customers, sessions, the WooCommerce
  ``Shop`` and its funnel;
* :mod:`.responses` - Graph API success/error bodies and error texts;
* :mod:`.stories` - one module per story, in README order (:mod:`.main`);
* :mod:`.readme` - sample_logs/README.md from the facts the stories leave.
"""
