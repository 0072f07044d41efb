"""2-d max pooling."""

FUNCTION = "max_pool2d"
TITLE = {"en": "Max pooling", "zh": "最大池化（max pooling）"}
TASK = {
    "en": "Implement `max_pool2d(x, kernel, stride)` for x (N, C, H, W) without padding: the "
    "maximum over each kernel x kernel window, windows `stride` apart (they may overlap).",
    "zh": "实现无填充的 `max_pool2d(x, kernel, stride)`，x 为 (N, C, H, W)：每个 kernel x kernel 窗口取最大值，窗口间隔 `stride`（可重叠）。",
}
STARTER = """def max_pool2d(x, kernel: int, stride: int):
    ...
"""
REFERENCE = """def max_pool2d(x, kernel: int, stride: int):
    windows = x.unfold(2, kernel, stride).unfold(3, kernel, stride)
    return windows.amax(dim=(-1, -2))
"""
WRONG = [
    """def max_pool2d(x, kernel, stride):
    n, c, h, w = x.shape
    x = x[:, :, : h // kernel * kernel, : w // kernel * kernel]
    return x.reshape(n, c, h // kernel, kernel, w // kernel, kernel).amax(dim=(3, 5))
"""
]
HINTS = {
    "en": [
        "`Tensor.unfold(dim, size, step)` makes sliding windows.",
        "Reshaping only works when stride == kernel.",
    ],
    "zh": [
        "`Tensor.unfold(dim, size, step)` 生成滑动窗口。",
        "reshape 的写法只在 stride == kernel 时成立。",
    ],
}
EXPLANATION = {
    "en": "Unfolding along height then width gives (N, C, H_out, W_out, k, k) windows; the max "
    "over the last two dims is the pooled map, for any stride.",
    "zh": "先沿高再沿宽 unfold 得到 (N, C, H_out, W_out, k, k) 的窗口，对最后两维取最大值即可，适用于任意步长。",
}
FORBIDDEN = [
    "torch.nn.functional.max_pool2d",
    "torch.max_pool2d",
    "torch.nn.MaxPool2d",
    "torch.nn.functional.adaptive_max_pool2d",
]
GRAD_ARGS = [0]


def cases():
    import torch

    g = torch.Generator().manual_seed(9)
    return [
        ("2x2 stride 2", (torch.randn(2, 3, 6, 6, generator=g), 2, 2)),
        ("3x3 stride 2 (overlapping)", (torch.randn(1, 2, 7, 7, generator=g), 3, 2)),
        ("odd size", (torch.randn(1, 1, 5, 7, generator=g), 2, 1)),
    ]
