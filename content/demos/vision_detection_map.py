"""Detection AP: a hand-checked example, and AP@0.5 against COCO's AP@[0.5:0.95]."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Detection AP at IoU 0.5 vs 0.5:0.95"
TITLE_ZH = "检测 AP：IoU 0.5 与 0.5:0.95"
DESCRIPTION = (
    "Computes all-point interpolated AP on a five-detection example checked by hand, then on "
    "synthetic detections whose localisation noise you set, at every IoU threshold from 0.5 "
    "to 0.95."
)
DESCRIPTION_ZH = (
    "先在一个可手算的 5 个检测框的例子上计算全点插值 AP，再在定位噪声可调的合成检测结果上，计"
    "算 IoU 阈值 0.5 到 0.95 的 AP。"
)
CLAIMS = {
    "ap-matches-hand-example": (
        "Detections ranked TP, FP, TP, FP, TP against 3 ground truths give AP = 1/3 (1 + "
        "2/3 + 3/5) = 34/45."
    ),
    "loose-boxes-lower-coco-ap": (
        "With localisation noise, COCO's AP@[0.5:0.95] is at least 0.15 below AP@0.5: "
        "boxes good enough at IoU 0.5 fail the stricter thresholds."
    ),
    "duplicate-counts-as-false-positive": (
        "A second detection of an already matched object counts as a false positive and lowers "
        "AP@0.5."
    ),
}
CLAIMS_ZH = {
    ("ap-matches-hand-example"): (
        "按得分排序为 TP、FP、TP、FP、TP、共 3 个真实框时，AP = 1/3 (1 + 2/3 + 3/5) = 34/45。"
    ),
    "loose-boxes-lower-coco-ap": (
        "有定位噪声时，COCO 的 AP@[0.5:0.95] 比 AP@0.5 至少低 0.15：在 IoU 0.5 下够好的框过不"
        "了更严格的阈值。"
    ),
    "duplicate-counts-as-false-positive": "对已匹配目标的第二个检测框算作误检(FP)，会降低 AP@0.5。",
}
CLAIM_SHOWN_WHEN = {
    "ap-matches-hand-example": "always: it does not depend on the parameters",
    "duplicate-counts-as-false-positive": "always: it does not depend on the parameters",
    "loose-boxes-lower-coco-ap": "jitter >= 0.05",
}
CLAIM_SHOWN_WHEN_ZH = {
    "ap-matches-hand-example": "总成立：与参数无关",
    "duplicate-counts-as-false-positive": "总成立：与参数无关",
    "loose-boxes-lower-coco-ap": "jitter >= 0.05",
}
TEXT_ZH = {
    "Localisation noise, as a fraction of the box size": "定位噪声（占框尺寸的比例）",
    "Number of ground-truth objects": "真实目标数",
    "False-positive detections": "误检框数",
    "AP per IoU threshold": "各 IoU 阈值下的 AP",
    "IoU threshold": "IoU 阈值",
    "AP": "AP",
    "Summary": "汇总",
    "quantity": "量",
    "value": "值",
}


class Params(BaseModel):
    jitter: float = Field(
        0.1, ge=0.0, le=0.3, description="Localisation noise, as a fraction of the box size"
    )
    objects: int = Field(50, ge=10, le=200, description="Number of ground-truth objects")
    false_positives: int = Field(15, ge=0, le=100, description="False-positive detections")


def average_precision(is_tp: list[bool], n_gt: int) -> float:
    """All-point interpolated AP: area under the precision envelope over recall."""
    tp = fp = 0
    points = []
    for hit in is_tp:
        tp, fp = tp + hit, fp + (not hit)
        points.append((tp / n_gt, tp / (tp + fp)))
    ap, prev_recall = 0.0, 0.0
    for i, (recall, _) in enumerate(points):
        if recall > prev_recall:
            envelope = max(p for _, p in points[i:])
            ap += (recall - prev_recall) * envelope
            prev_recall = recall
    return ap


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)

    def iou(a, b):  # type: ignore[no-untyped-def]
        lt = torch.maximum(a[:, None, :2], b[None, :, :2])
        rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
        inter = (rb - lt).clamp(min=0).prod(-1)
        area = lambda x: (x[:, 2:] - x[:, :2]).prod(-1)  # noqa: E731
        return inter / (area(a)[:, None] + area(b)[None, :] - inter)

    def greedy(boxes, scores, gts, threshold):  # type: ignore[no-untyped-def]
        order = scores.argsort(descending=True)
        ious = iou(boxes[order], gts)
        used: set[int] = set()
        hits = []
        for row in ious:
            best = int(row.argmax())
            ok = float(row[best]) >= threshold and best not in used
            if ok:
                used.add(best)
            hits.append(ok)
        return hits

    hand = average_precision([True, False, True, False, True], 3)
    n = params.objects
    corners = torch.rand(n, 2) * 1000
    sizes = 20 + torch.rand(n, 1) * 40
    gts = torch.cat([corners, corners + sizes], dim=1)
    noise = torch.randn(n, 4) * params.jitter * sizes
    dets = gts + noise
    fp_corners = torch.rand(params.false_positives, 2) * 1000 + 2000  # far from every object
    fps = torch.cat([fp_corners, fp_corners + 30], dim=1)
    boxes = torch.cat([dets, fps]).to(ctx.device)
    scores = torch.cat([0.5 + 0.5 * torch.rand(n), torch.rand(params.false_positives)]).to(
        ctx.device
    )
    gts = gts.to(ctx.device)
    thresholds = [0.5 + 0.05 * i for i in range(10)]
    aps = [average_precision(greedy(boxes, scores, gts, t), n) for t in thresholds]
    ap50, coco = aps[0], sum(aps) / len(aps)
    # Duplicates: a second, slightly lower-scored copy of the first ten detections.
    dup_boxes = torch.cat([boxes, boxes[:10] + 0.5])
    dup_scores = torch.cat([scores, scores[:10] - 1e-3])
    ap50_dup = average_precision(greedy(dup_boxes, dup_scores, gts, 0.5), n)
    chart = Chart(
        id="ap-per-threshold",
        title="AP per IoU threshold",
        x_label="IoU threshold",
        y_label="AP",
        series=[Series(name="AP", x=thresholds, y=aps)],
    )
    table = Table(
        title="Summary",
        columns=["quantity", "value"],
        rows=[
            ["hand example AP", hand],
            ["AP@0.5", ap50],
            ["AP@0.75", aps[5]],
            ["AP@[0.5:0.95]", coco],
            ["AP@0.5 with 10 duplicates", ap50_dup],
        ],
    )
    claims = [
        Claim(
            id="ap-matches-hand-example",
            text=CLAIMS["ap-matches-hand-example"],
            passed=abs(hand - 34 / 45) < 1e-12,
            values={"ap": hand, "expected": 34 / 45},
        ),
        Claim(
            id="loose-boxes-lower-coco-ap",
            text=CLAIMS["loose-boxes-lower-coco-ap"],
            passed=ap50 - coco >= 0.15,
            values={"ap50": ap50, "ap_coco": coco},
        ),
        Claim(
            id="duplicate-counts-as-false-positive",
            text=CLAIMS["duplicate-counts-as-false-positive"],
            passed=ap50_dup < ap50 - 1e-6,
            values={"ap50": ap50, "ap50_with_duplicates": ap50_dup},
        ),
    ]
    return DemoResult(
        summary=f"Hand example AP = {hand:.4f} (34/45). With jitter {params.jitter}: AP@0.5 = "
        f"{ap50:.3f}, "
        f"AP@0.75 = {aps[5]:.3f}, AP@[0.5:0.95] = {coco:.3f}.",
        summary_zh=f"手算例子 AP = {hand:.4f}（34/45）。定位噪声 {params.jitter} 时：AP@0.5 = "
        f"{ap50:.3f}，"
        f"AP@0.75 = {aps[5]:.3f}，AP@[0.5:0.95] = {coco:.3f}。",
        metrics={
            "hand_ap": hand,
            "ap50": ap50,
            "ap75": aps[5],
            "ap_coco": coco,
            "ap50_with_duplicates": ap50_dup,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
