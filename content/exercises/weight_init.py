"""Xavier and He initialisation."""

FUNCTION = "init_weights"
TITLE = {"en": "Xavier/He initialisation", "zh": "Xavier/He 初始化"}
TASK = {
    "en": "Implement `init_weights(kind, fan_in, fan_out, noise)`. `noise` holds samples from U(-1, 1) "
    "for the uniform kinds and from N(0, 1) for the normal kinds; scale them so the weights follow "
    "`xavier_uniform`, `xavier_normal`, `he_uniform` or `he_normal` (He for ReLU, fan_in mode).",
    "zh": "实现 `init_weights(kind, fan_in, fan_out, noise)`。均匀分布类型的 `noise` 来自 U(-1, 1)，正态类型的来自 N(0, 1)；缩放它们使权重服从 `xavier_uniform`、`xavier_normal`、`he_uniform` 或 `he_normal`（He 针对 ReLU，fan_in 模式）。",
}
STARTER = """def init_weights(kind: str, fan_in: int, fan_out: int, noise):
    ...
"""
REFERENCE = """def init_weights(kind: str, fan_in: int, fan_out: int, noise):
    if kind == "xavier_uniform":
        return noise * math.sqrt(6.0 / (fan_in + fan_out))
    if kind == "xavier_normal":
        return noise * math.sqrt(2.0 / (fan_in + fan_out))
    if kind == "he_uniform":
        return noise * math.sqrt(6.0 / fan_in)
    if kind == "he_normal":
        return noise * math.sqrt(2.0 / fan_in)
    raise ValueError(kind)
"""
WRONG = [
    """def init_weights(kind, fan_in, fan_out, noise):
    if kind.startswith("xavier"):
        return noise * math.sqrt(2.0 / (fan_in + fan_out))
    return noise * math.sqrt(1.0 / fan_in)
"""
]
HINTS = {
    "en": [
        "Var(U(-a, a)) = a^2 / 3.",
        "Xavier targets Var = 2 / (fan_in + fan_out); He targets 2 / fan_in.",
    ],
    "zh": [
        "Var(U(-a, a)) = a^2 / 3。",
        "Xavier 目标方差为 2 / (fan_in + fan_out)，He 为 2 / fan_in。",
    ],
}
EXPLANATION = {
    "en": "Keeping the activation variance constant across layers needs Var(w) = 2 / (fan_in + fan_out) "
    "for tanh-like units and 2 / fan_in for ReLU (half the units are zero); a uniform bound is sqrt(3 Var).",
    "zh": "要让各层激活方差不变，类 tanh 单元需 Var(w) = 2 / (fan_in + fan_out)，ReLU 需 2 / fan_in（一半单元为 0）；均匀分布的边界为 sqrt(3 Var)。",
}
FORBIDDEN = [
    "torch.nn.init.xavier_uniform_",
    "torch.nn.init.xavier_normal_",
    "torch.nn.init.kaiming_uniform_",
    "torch.nn.init.kaiming_normal_",
    "torch.nn.init.calculate_gain",
]


def cases():
    import torch

    g = torch.Generator().manual_seed(19)
    u = torch.rand(4, 3, generator=g) * 2 - 1
    n = torch.randn(4, 3, generator=g)
    return [
        ("xavier uniform", ("xavier_uniform", 3, 4, u)),
        ("xavier normal", ("xavier_normal", 3, 4, n)),
        ("he uniform", ("he_uniform", 3, 4, u)),
        ("he normal", ("he_normal", 128, 64, n)),
    ]
