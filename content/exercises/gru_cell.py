"""A GRU cell."""

FUNCTION = "gru_cell"
TITLE = {"en": "GRU cell", "zh": "GRU 单元"}
TASK = {
    "en": "Implement `gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)` as PyTorch does: x (B, I), h (B, H), "
    "w_ih (I, 3H), w_hh (H, 3H), biases (3H,), gates in the order reset r, update z, new n; "
    "n = tanh(x W_in + b_in + r * (h W_hn + b_hn)); h_new = (1 - z) * n + z * h.",
    "zh": "按 PyTorch 的定义实现 `gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)`：x 为 (B, I)，h 为 (B, H)，w_ih 为 (I, 3H)，w_hh 为 (H, 3H)，偏置为 (3H,)，门顺序为重置门 r、更新门 z、候选 n；n = tanh(x W_in + b_in + r * (h W_hn + b_hn))；h_new = (1 - z) * n + z * h。",
}
STARTER = """def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    ...
"""
REFERENCE = """def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    xr, xz, xn = (x @ w_ih + b_ih).chunk(3, dim=-1)
    hr, hz, hn = (h @ w_hh + b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(xr + hr)
    z = torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return (1 - z) * n + z * h
"""
WRONG = [
    """def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    xr, xz, xn = (x @ w_ih + b_ih).chunk(3, dim=-1)
    hr, hz, hn = (h @ w_hh + b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(xr + hr)
    z = torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return z * n + (1 - z) * h
"""
]
HINTS = {
    "en": [
        "The reset gate multiplies the hidden part of n, bias included.",
        "z close to 1 keeps the old state.",
    ],
    "zh": ["重置门乘的是 n 中来自隐藏状态的部分（含偏置）。", "z 接近 1 时保留旧状态。"],
}
EXPLANATION = {
    "en": "In PyTorch's convention z interpolates towards the OLD state: h_new = (1 - z) n + z h.",
    "zh": "在 PyTorch 的约定中，z 越大越接近旧状态：h_new = (1 - z) n + z h。",
}
FORBIDDEN = ["torch.nn.GRUCell", "torch.gru_cell", "torch.nn.GRU", "torch.gru"]
GRAD_ARGS = [0, 1]


def cases():
    import torch

    g = torch.Generator().manual_seed(15)

    def case(b, i, h):
        return (
            torch.randn(b, i, generator=g),
            torch.randn(b, h, generator=g),
            torch.randn(i, 3 * h, generator=g) * 0.5,
            torch.randn(h, 3 * h, generator=g) * 0.5,
            torch.randn(3 * h, generator=g),
            torch.randn(3 * h, generator=g),
        )

    return [("small", case(3, 4, 5)), ("batch of one", case(1, 2, 3))]
