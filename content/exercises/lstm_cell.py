"""An LSTM cell."""

FUNCTION = "lstm_cell"
TITLE = {"en": "LSTM cell", "zh": "LSTM 单元"}
TASK = {
    "en": "Implement `lstm_cell(x, h, c, w_ih, w_hh, b)` for x (B, I), h and c (B, H), w_ih (I, 4H), "
    "w_hh (H, 4H), b (4H,). Gates in the order input, forget, cell (g), output. Return `(h_new, c_new)`.",
    "zh": "实现 `lstm_cell(x, h, c, w_ih, w_hh, b)`：x 为 (B, I)，h、c 为 (B, H)，w_ih 为 (I, 4H)，w_hh 为 (H, 4H)，b 为 (4H,)。门的顺序为输入门、遗忘门、候选（g）、输出门。返回 `(h_new, c_new)`。",
}
STARTER = """def lstm_cell(x, h, c, w_ih, w_hh, b):
    ...
"""
REFERENCE = """def lstm_cell(x, h, c, w_ih, w_hh, b):
    i, f, g, o = (x @ w_ih + h @ w_hh + b).chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_new = f * c + i * g
    h_new = o * torch.tanh(c_new)
    return h_new, c_new
"""
WRONG = [
    """def lstm_cell(x, h, c, w_ih, w_hh, b):
    i, f, g, o = (x @ w_ih + h @ w_hh + b).chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_new = f * c + i * g
    return o * c_new, c_new
"""
]
HINTS = {
    "en": [
        "Three gates use sigmoid; the candidate uses tanh.",
        "h_new squashes the new cell state with tanh.",
    ],
    "zh": ["三个门用 sigmoid，候选值用 tanh。", "h_new 要先对新的细胞状态取 tanh。"],
}
EXPLANATION = {
    "en": "c_new = f*c + i*g is the additive path that carries gradients; h_new = o * tanh(c_new) "
    "exposes a bounded view of it.",
    "zh": "c_new = f*c + i*g 是传递梯度的加法通路；h_new = o * tanh(c_new) 输出它的有界版本。",
}
FORBIDDEN = ["torch.nn.LSTMCell", "torch.lstm_cell", "torch.nn.LSTM", "torch.lstm"]
GRAD_ARGS = [0, 1, 2]


def cases():
    import torch

    g = torch.Generator().manual_seed(14)

    def case(b, i, h):
        return (
            torch.randn(b, i, generator=g),
            torch.randn(b, h, generator=g),
            torch.randn(b, h, generator=g),
            torch.randn(i, 4 * h, generator=g) * 0.5,
            torch.randn(h, 4 * h, generator=g) * 0.5,
            torch.randn(4 * h, generator=g),
        )

    return [("small", case(3, 4, 5)), ("batch of one", case(1, 2, 3))]
