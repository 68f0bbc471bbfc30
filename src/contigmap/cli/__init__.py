"""The ``contigmap`` command line, as a package (like rasterio's ``rio``).

=============  ==================================================================
``main``       the ``contigmap`` group, logging and warnings set-up, the entry point
``errors``     exit codes and the one-line error handling every command shares
``options``    options used by several commands, defined once
``echo``       printing results (the CLI is the only place that prints)
``run``        ``run``, ``demo``, ``priorities``
``check``      ``validate``, ``init``, ``inputs``, ``columns``
``scenario``   ``scenario run|compare``, ``criticality``, ``optimize``
``synth``      ``synth demo|scale|messy``
=============  ==================================================================

Nothing is imported here: ``contigmap.cli.main`` is both a module and, inside it, the
console-script function ``main``.
"""
