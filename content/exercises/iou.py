"""Pairwise IoU of boxes."""

FUNCTION = "box_iou"
TITLE = {"en": "IoU of bounding boxes", "zh": "边界框的 IoU"}
TASK = {
    "en": "Implement `box_iou(a, b)` for boxes a (N, 4) and b (M, 4) in (x1, y1, x2, y2) form: "
    "the (N, M) matrix of intersection over union. Disjoint boxes have IoU 0.",
    "zh": "实现 `box_iou(a, b)`：a 为 (N, 4)、b 为 (M, 4) 的 (x1, y1, x2, y2) 格式框，返回 (N, M) 的交并比矩阵。不相交的框 IoU 为 0。",
}
STARTER = """def box_iou(a, b):
    ...
"""
REFERENCE = """def box_iou(a, b):
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)
"""
WRONG = [
    """def box_iou(a, b):
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = bottom_right - top_left
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)
"""
]
HINTS = {
    "en": [
        "The intersection is max of the top-left corners to min of the bottom-right corners.",
        "Clamp negative widths and heights to 0.",
    ],
    "zh": ["交集从左上角的最大值到右下角的最小值。", "把负的宽高截断为 0。"],
}
EXPLANATION = {
    "en": "For disjoint boxes both the width and height of the 'intersection' are negative; their "
    "product is positive unless each is clamped at 0.",
    "zh": "不相交的两个框，“交集”的宽和高都为负，乘积却为正，必须分别截断为 0。",
}


def cases():
    import torch

    g = torch.Generator().manual_seed(23)

    def boxes(n):
        xy = torch.rand(n, 2, generator=g) * 10
        return torch.cat([xy, xy + torch.rand(n, 2, generator=g) * 5 + 0.5], dim=1)

    return [
        ("random", (boxes(4), boxes(5))),
        (
            "disjoint",
            (
                torch.tensor([[0.0, 0.0, 1.0, 1.0]]),
                torch.tensor([[2.0, 2.0, 3.0, 3.0], [0.5, 0.5, 2.0, 2.0]]),
            ),
        ),
        ("identical", (torch.tensor([[1.0, 2.0, 4.0, 6.0]]), torch.tensor([[1.0, 2.0, 4.0, 6.0]]))),
    ]
