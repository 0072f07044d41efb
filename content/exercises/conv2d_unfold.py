"""conv2d as a matrix multiply over unfolded patches."""

FUNCTION = "conv2d"
TITLE = {"en": "conv2d via unfold", "zh": "用 unfold 实现 conv2d"}
TASK = {
    "en": "Implement `conv2d(x, w, b, stride=1, padding=0)` for x (N, C, H, W), w (O, C, kH, kW), "
    "b (O,), using `F.unfold` and a matrix multiply. Return (N, O, H_out, W_out).",
    "zh": "用 `F.unfold` 和矩阵乘法实现 `conv2d(x, w, b, stride=1, padding=0)`：x 为 (N, C, H, W)，w 为 (O, C, kH, kW)，b 为 (O,)，返回 (N, O, H_out, W_out)。",
}
STARTER = """def conv2d(x, w, b, stride: int = 1, padding: int = 0):
    ...
"""
REFERENCE = """def conv2d(x, w, b, stride: int = 1, padding: int = 0):
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (wd + 2 * padding - kw) // stride + 1
    cols = F.unfold(x, (kh, kw), padding=padding, stride=stride)  # (N, C*kh*kw, L)
    out = w.reshape(o, -1) @ cols + b.reshape(1, o, 1)
    return out.reshape(n, o, h_out, w_out)
"""
WRONG = [
    """def conv2d(x, w, b, stride=1, padding=0):
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    cols = F.unfold(x, (kh, kw), padding=padding)
    out = w.reshape(o, -1) @ cols + b.reshape(1, o, 1)
    return out.reshape(n, o, h + 2 * padding - kh + 1, wd + 2 * padding - kw + 1)
"""
]
HINTS = {
    "en": [
        "H_out = (H + 2p - k) // s + 1.",
        "unfold gives (N, C*kH*kW, L); the weights reshape to (O, C*kH*kW).",
    ],
    "zh": [
        "H_out = (H + 2p - k) // s + 1。",
        "unfold 得到 (N, C*kH*kW, L)，权重 reshape 为 (O, C*kH*kW)。",
    ],
}
EXPLANATION = {
    "en": "Every output position is a dot product of the flattened kernel with one flattened "
    "patch; unfold lays the patches out as columns so one matmul computes them all.",
    "zh": "每个输出位置是展平卷积核与一个展平 patch 的点积；unfold 把所有 patch 排成列，一次矩阵乘法算完。",
}
FORBIDDEN = ["torch.nn.functional.conv2d", "torch.conv2d", "torch.nn.Conv2d", "torch.convolution"]
GRAD_ARGS = [0, 1]
ATOL = 1e-4


def cases():
    import torch

    g = torch.Generator().manual_seed(8)
    return [
        (
            "3x3, padding 1",
            (
                torch.randn(2, 3, 6, 6, generator=g),
                torch.randn(4, 3, 3, 3, generator=g),
                torch.randn(4, generator=g),
            ),
            {"padding": 1},
        ),
        (
            "stride 2",
            (
                torch.randn(1, 2, 7, 7, generator=g),
                torch.randn(3, 2, 3, 3, generator=g),
                torch.randn(3, generator=g),
            ),
            {"stride": 2},
        ),
        (
            "non-square kernel",
            (
                torch.randn(1, 1, 5, 6, generator=g),
                torch.randn(2, 1, 2, 3, generator=g),
                torch.zeros(2),
            ),
        ),
    ]
