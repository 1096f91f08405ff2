"""One module per sample story; each ``story_*(facts)`` writes its files under
sample_logs/ from its own fixed-seed ``random.Random`` and records what the
README needs in ``facts``.  The order in :mod:`samplegen.main` is the order of
the README."""
