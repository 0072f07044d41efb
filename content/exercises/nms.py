"""Non-maximum suppression."""

FUNCTION = "nms"
TITLE = {"en": "Non-maximum suppression", "zh": "非极大值抑制（NMS）"}
TASK = {
    "en": "Implement `nms(boxes, scores, iou_threshold)` for boxes (N, 4) in (x1, y1, x2, y2) form: "
    "repeatedly keep the highest-scoring remaining box and drop every remaining box whose IoU with "
    "it exceeds the threshold. Return the kept indices as an int64 tensor, by decreasing score.",
    "zh": "实现 `nms(boxes, scores, iou_threshold)`，boxes 为 (N, 4) 的 (x1, y1, x2, y2) 格式：反复保留剩余框中得分最高的，并删除与它 IoU 超过阈值的其余框。按得分从高到低返回保留下标（int64 张量）。",
}
STARTER = """def nms(boxes, scores, iou_threshold: float):
    ...
"""
REFERENCE = """def nms(boxes, scores, iou_threshold: float):
    order = scores.argsort(descending=True)
    x1, y1, x2, y2 = boxes.unbind(1)
    areas = (x2 - x1) * (y2 - y1)
    keep = []
    while order.numel() > 0:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        w = (torch.minimum(x2[i], x2[rest]) - torch.maximum(x1[i], x1[rest])).clamp(min=0)
        h = (torch.minimum(y2[i], y2[rest]) - torch.maximum(y1[i], y1[rest])).clamp(min=0)
        inter = w * h
        iou = inter / (areas[i] + areas[rest] - inter)
        order = rest[iou <= iou_threshold]
    return torch.tensor(keep, dtype=torch.int64)
"""
WRONG = [
    """def nms(boxes, scores, iou_threshold):
    x1, y1, x2, y2 = boxes.unbind(1)
    areas = (x2 - x1) * (y2 - y1)
    keep = []
    order = torch.arange(boxes.shape[0])
    while order.numel() > 0:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        w = (torch.minimum(x2[i], x2[rest]) - torch.maximum(x1[i], x1[rest])).clamp(min=0)
        h = (torch.minimum(y2[i], y2[rest]) - torch.maximum(y1[i], y1[rest])).clamp(min=0)
        iou = w * h / (areas[i] + areas[rest] - w * h)
        order = rest[iou <= iou_threshold]
    return torch.tensor(keep, dtype=torch.int64)
"""
]
HINTS = {
    "en": [
        "Visit boxes in order of decreasing score.",
        "A kept box suppresses only boxes it overlaps beyond the threshold.",
    ],
    "zh": ["按得分从高到低处理框。", "被保留的框只抑制与它重叠超过阈值的框。"],
}
EXPLANATION = {
    "en": "Greedy NMS is order-dependent: starting from an arbitrary box lets a weaker detection "
    "suppress the better one.",
    "zh": "贪心 NMS 依赖顺序：从任意框开始会让较弱的检测抑制更好的检测。",
}


def cases():
    import torch

    g = torch.Generator().manual_seed(24)
    xy = torch.rand(12, 2, generator=g) * 6
    boxes = torch.cat([xy, xy + 2 + torch.rand(12, 2, generator=g)], dim=1)
    return [
        ("random boxes", (boxes, torch.rand(12, generator=g), 0.5)),
        (
            "clustered",
            (
                torch.tensor([[0, 0, 2, 2], [0.1, 0.1, 2.1, 2.1], [5, 5, 6, 6.0]]),
                torch.tensor([0.6, 0.9, 0.3]),
                0.5,
            ),
        ),
        ("one box", (torch.tensor([[1.0, 1.0, 2.0, 2.0]]), torch.tensor([0.7]), 0.5)),
    ]
