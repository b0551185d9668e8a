"""Fitting: a chunked-scan SVI runner with divergence stop, a NUTS runner, and
helpers that turn samples into flat draws tables."""
