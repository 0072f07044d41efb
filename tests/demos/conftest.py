from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Run demos as the workers do (one torch thread: tiny tensors, and on a busy 2-core CI box
    extra threads only contend), and pay torch.optim's one-off lazy imports before any demo is
    timed. Restores the thread count afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    yield
    torch.set_num_threads(before)
