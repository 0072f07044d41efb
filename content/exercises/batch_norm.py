"""BatchNorm in training and evaluation, with running statistics."""

FUNCTION = "batch_norm"
TITLE = {
    "en": "BatchNorm train/eval with running statistics",
    "zh": "BatchNorm 的训练/推理与滑动统计量",
}
TASK = {
    "en": "Implement `batch_norm(x, gamma, beta, running_mean, running_var, training, "
    "momentum=0.1, eps=1e-5)` for x (N, C). Return `(y, new_running_mean, new_running_var)`. "
    "Training: normalise with the batch mean and biased variance; update running stats as "
    "(1 - momentum) * old + momentum * batch, using the UNBIASED batch variance (as PyTorch). "
    "Eval: normalise with the running stats and return them unchanged.",
    "zh": "实现 `batch_norm(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5)`，x 形状 (N, C)，返回 `(y, new_running_mean, new_running_var)`。训练时用 batch 均值和有偏方差归一化，滑动统计量按 (1 - momentum) * 旧值 + momentum * batch 值更新，其中方差用无偏估计（与 PyTorch 一致）；推理时用滑动统计量归一化且不更新。",
}
STARTER = """def batch_norm(x, gamma, beta, running_mean, running_var, training: bool,
               momentum: float = 0.1, eps: float = 1e-5):
    ...
"""
REFERENCE = """def batch_norm(x, gamma, beta, running_mean, running_var, training: bool,
               momentum: float = 0.1, eps: float = 1e-5):
    if training:
        mean = x.mean(dim=0)
        var = x.var(dim=0, unbiased=False)
        n = x.shape[0]
        unbiased = var * n / max(n - 1, 1)
        new_mean = (1 - momentum) * running_mean + momentum * mean.detach()
        new_var = (1 - momentum) * running_var + momentum * unbiased.detach()
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean, running_var
    y = (x - mean) / torch.sqrt(var + eps) * gamma + beta
    return y, new_mean, new_var
"""
WRONG = [
    """def batch_norm(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var
    y = (x - mean) / torch.sqrt(var + eps) * gamma + beta
    return y, new_mean, new_var
"""
]
HINTS = {
    "en": [
        "Eval mode must not use the batch's statistics.",
        "The running variance uses n / (n - 1) times the batch variance.",
    ],
    "zh": ["推理模式不能用当前 batch 的统计量。", "滑动方差用 batch 方差乘以 n / (n - 1)。"],
}
EXPLANATION = {
    "en": "Training normalises with batch statistics and folds them into running averages; eval "
    "uses those averages, so one example's output does not depend on its batch.",
    "zh": "训练时用 batch 统计量归一化并累积到滑动平均；推理时用滑动平均，单个样本的输出与所在 batch 无关。",
}
FORBIDDEN = ["torch.nn.functional.batch_norm", "torch.batch_norm", "torch.nn.BatchNorm1d"]
GRAD_ARGS = [0]


def cases():
    import torch

    g = torch.Generator().manual_seed(5)
    c = 4
    stats = (torch.randn(c, generator=g), torch.rand(c, generator=g) + 0.5)
    affine = (torch.randn(c, generator=g), torch.randn(c, generator=g))
    return [
        ("training", (torch.randn(8, c, generator=g) * 3 + 1, *affine, *stats, True)),
        ("eval", (torch.randn(8, c, generator=g), *affine, *stats, False)),
        (
            "training, batch of two",
            (torch.randn(2, c, generator=g), *affine, *stats, True),
            {"momentum": 0.5},
        ),
        ("eval, batch of one", (torch.randn(1, c, generator=g), *affine, *stats, False)),
    ]
