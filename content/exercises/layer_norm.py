"""LayerNorm over the last dimension."""

FUNCTION = "layer_norm"
TITLE = {"en": "LayerNorm", "zh": "层归一化（LayerNorm）"}
TASK = {
    "en": "Implement `layer_norm(x, gamma, beta, eps=1e-5)`: normalise each row over the last "
    "dimension with its mean and biased variance, then scale by `gamma` and shift by `beta`.",
    "zh": "实现 `layer_norm(x, gamma, beta, eps=1e-5)`：在最后一维上用均值和有偏方差归一化，再乘 `gamma` 加 `beta`。",
}
STARTER = """def layer_norm(x, gamma, beta, eps: float = 1e-5):
    ...
"""
REFERENCE = """def layer_norm(x, gamma, beta, eps: float = 1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * gamma + beta
"""
WRONG = [
    """def layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * gamma + beta
"""
]
HINTS = {
    "en": [
        "Statistics are per example, over features (the last dim).",
        "LayerNorm uses the biased variance (divide by D).",
    ],
    "zh": ["统计量按样本、在特征维（最后一维）上计算。", "LayerNorm 用有偏方差（除以 D）。"],
}
EXPLANATION = {
    "en": "Each token is normalised with its own mean and biased variance over features; eps goes "
    "inside the square root.",
    "zh": "每个样本用自己在特征上的均值和有偏方差归一化，eps 加在根号内。",
}
FORBIDDEN = ["torch.nn.functional.layer_norm", "torch.layer_norm", "torch.nn.LayerNorm"]
GRAD_ARGS = [0, 1, 2]


def cases():
    import torch

    g = torch.Generator().manual_seed(4)
    return [
        (
            "3-d input",
            (
                torch.randn(2, 3, 8, generator=g),
                torch.randn(8, generator=g),
                torch.randn(8, generator=g),
            ),
        ),
        ("few features", (torch.randn(4, 3, generator=g) * 5 + 2, torch.ones(3), torch.zeros(3))),
        (
            "batch of one",
            (
                torch.randn(1, 16, generator=g),
                torch.randn(16, generator=g),
                torch.randn(16, generator=g),
            ),
        ),
    ]
