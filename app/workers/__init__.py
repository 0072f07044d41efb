"""Demo execution: the only package that imports torch, and only in the zygote and its workers.

``pool`` and ``executor`` are imported by the web process and never import torch;
``zygote`` runs as its own process (``python -m app.workers.zygote``) and does.
"""
