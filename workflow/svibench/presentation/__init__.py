"""Presentation: the figures and the report, made from stored results only.

Every module here reads results (files, dicts) and writes PNGs or HTML; none imports
fitting, the engine or JAX, so re-rendering never refits and never starts JAX.

- ``palette``: the colours of every figure;
- ``plots``, ``evalplots``: matplotlib figures from loaded tables;
- ``figures``: stored files to figures, one function per plot rule;
- ``ranking``: the report's tables as data (medians over seeds, marks, ranks);
- ``render``: the Jinja2 environment (templates under ``templates/``) and number format;
- ``report``: stored files to the self-contained HTML report (the report rule).
"""
