"""Programs from traces: ``cr.explain`` writes a function's backward pass out as code,
``cr.compile`` runs it as straight-line NumPy.

``_trace`` runs a function once on Tensors and keeps what it computed as a list
of primitive applications (a ``Trace``); ``explain`` writes a trace as
lecture-style NumPy code. This package is imported on first use of
``cr.explain``, not with ``chainrule``.
"""
