"""IoU by hand, and hard NMS vs soft-NMS on a scene with duplicates and an occluded object."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "IoU, NMS and soft-NMS"
TITLE_ZH = "IoU、NMS 与 soft-NMS"
DESCRIPTION = (
    "Computes IoU on a known pair of boxes, then runs hard NMS and Gaussian soft-NMS on "
    "jittered duplicate detections of four isolated objects and one pair of overlapping objects."
)
DESCRIPTION_ZH = (
    "先在一对已知的框上计算 IoU，再对四个孤立目标和一对互相重叠目标的抖动重复检测框分别做硬 NMS "
    "和高斯 soft-NMS。"
)
CLAIMS = {
    "iou-known-example": "Boxes [0,0,2,2] and [1,1,3,3] have IoU 1/7 (intersection 1, union 7).",
    ("nms-one-per-object"): (
        "Hard NMS at the chosen IoU threshold keeps exactly one box per isolated object."
    ),
    "hard-nms-drops-occluded": (
        "When two objects overlap more than the NMS threshold, hard NMS deletes every box of the "
        "lower-scoring one."
    ),
    "soft-nms-keeps-occluded": (
        "Soft-NMS (scores times exp(-IoU^2 / sigma)) ranks the occluded object's box above every "
        "duplicate, so the top-K boxes (K = number of objects) find all objects."
    ),
}
CLAIMS_ZH = {
    "iou-known-example": "框 [0,0,2,2] 和 [1,1,3,3] 的 IoU 为 1/7（交集 1，并集 7）。",
    "nms-one-per-object": "在所选 IoU 阈值下，硬 NMS 对每个孤立目标恰好保留一个框。",
    ("hard-nms-drops-occluded"): (
        "两个目标的重叠超过 NMS 阈值时，硬 NMS 会删掉得分较低的那个目标的全部框。"
    ),
    "soft-nms-keeps-occluded": (
        "soft-NMS（分数乘以 exp(-IoU^2 / sigma)）把被遮挡目标的框排在所有重复框之前，所以前 K "
        "个框（K 为目标数）能找到全部目标。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "iou-known-example": "always: it does not depend on the parameters",
    "soft-nms-keeps-occluded": (
        "overlap up to about 0.8 with sigma up to about 1 (the defaults: 0.6 and 0.5)"
    ),
    "nms-one-per-object": "iou_threshold <= 0.7",
    "hard-nms-drops-occluded": "overlap above iou_threshold",
}
CLAIM_SHOWN_WHEN_ZH = {
    "iou-known-example": "总成立：与参数无关",
    "soft-nms-keeps-occluded": "overlap 约不超过 0.8 且 sigma 约不超过 1（默认 0.6 和 0.5）",
    "nms-one-per-object": "iou_threshold <= 0.7",
    "hard-nms-drops-occluded": "overlap 高于 iou_threshold",
}
TEXT_ZH = {
    "IoU threshold of hard NMS": "硬 NMS 的 IoU 阈值",
    "IoU between the two overlapping objects": "两个重叠目标之间的 IoU",
    "Duplicate detections per object": "每个目标的重复检测框数",
    "Gaussian soft-NMS sigma": "高斯 soft-NMS 的 sigma",
    "Boxes kept per object": "每个目标保留的框数",
    "object": "目标",
    "boxes": "框数",
    "hard NMS (kept)": "硬 NMS（保留）",
    "soft-NMS (in top K)": "soft-NMS（前 K 个中）",
    "Top-K boxes after soft-NMS": "soft-NMS 后的前 K 个框",
    "rank": "排名",
    "object hit": "命中的目标",
    "score after decay": "衰减后分数",
}


class Params(BaseModel):
    iou_threshold: float = Field(0.5, ge=0.1, le=0.95, description="IoU threshold of hard NMS")
    overlap: float = Field(
        0.6, ge=0.1, le=0.9, description="IoU between the two overlapping objects"
    )
    duplicates: int = Field(6, ge=2, le=10, description="Duplicate detections per object")
    sigma: float = Field(0.5, ge=0.05, le=2.0, description="Gaussian soft-NMS sigma")


def iou_matrix(a, b):  # type: ignore[no-untyped-def]
    import torch

    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = lambda x: (x[:, 2:] - x[:, :2]).prod(-1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def hard_nms(boxes, scores, threshold: float) -> list[int]:  # type: ignore[no-untyped-def]
    order = scores.argsort(descending=True).tolist()
    keep: list[int] = []
    ious = iou_matrix(boxes, boxes)
    while order:
        best = order.pop(0)
        keep.append(best)
        order = [i for i in order if float(ious[best, i]) <= threshold]
    return keep


def soft_nms(boxes, scores, sigma: float) -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
    import torch

    scores = scores.clone()
    ious = iou_matrix(boxes, boxes)
    left = list(range(len(scores)))
    picked: list[tuple[int, float]] = []
    while left:
        best = max(left, key=lambda i: float(scores[i]))
        left.remove(best)
        picked.append((best, float(scores[best])))
        for i in left:
            scores[i] = scores[i] * torch.exp(-(ious[best, i] ** 2) / sigma)
    return sorted(picked, key=lambda pair: -pair[1])


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import math

    import torch

    torch.manual_seed(ctx.seed)
    known = iou_matrix(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[1.0, 1, 3, 3]]))[0, 0].item()
    # Objects: four isolated 10x10 boxes and a pair shifted along x so their IoU is `overlap`.
    shift = 10 * (1 - params.overlap) / (1 + params.overlap)
    gts = torch.tensor(
        [
            [0.0, 0, 10, 10],
            [30, 0, 40, 10],
            [0, 30, 10, 40],
            [30, 30, 40, 40],
            [60, 0, 70, 10],
            [60 + shift, 0, 70 + shift, 10],
        ]
    )
    n_obj = len(gts)
    boxes, scores, owner = [], [], []
    for j, gt in enumerate(gts):
        for d in range(params.duplicates):
            jitter = torch.randn(4) * 0.3
            boxes.append(gt + jitter)
            # The second object of the pair is the occluded one: it scores a little lower.
            base = 0.75 if j == n_obj - 1 else 0.9
            scores.append(base - 0.05 * d * torch.rand(()).item())
            owner.append(j)
    boxes_t = torch.stack(boxes).to(ctx.device)
    scores_t = torch.tensor(scores).to(ctx.device)
    kept = hard_nms(boxes_t, scores_t, params.iou_threshold)
    kept_per = [sum(owner[i] == j for i in kept) for j in range(n_obj)]
    ranked = soft_nms(boxes_t, scores_t, params.sigma)
    top = ranked[:n_obj]
    soft_per = [sum(owner[i] == j for i, _ in top) for j in range(n_obj)]
    measured_overlap = float(iou_matrix(gts[-2:-1], gts[-1:])[0, 0])
    names = [f"object {j + 1}" for j in range(n_obj)]
    chart = Chart(
        id="kept",
        title="Boxes kept per object",
        kind="bar",
        x_label="object",
        y_label="boxes",
        categories=names,
        series=[
            Series(
                name="hard NMS (kept)",
                x=[float(j) for j in range(n_obj)],
                y=[float(v) for v in kept_per],
            ),
            Series(
                name="soft-NMS (in top K)",
                x=[float(j) for j in range(n_obj)],
                y=[float(v) for v in soft_per],
            ),
        ],
    )
    table = Table(
        title="Top-K boxes after soft-NMS",
        columns=["rank", "object hit", "score after decay"],
        rows=[[r + 1, owner[i] + 1, s] for r, (i, s) in enumerate(top)],
    )
    claims = [
        Claim(
            id="iou-known-example",
            text=CLAIMS["iou-known-example"],
            passed=math.isclose(known, 1 / 7, rel_tol=1e-6),
            values={"iou": known},
        ),
        Claim(
            id="nms-one-per-object",
            text=CLAIMS["nms-one-per-object"],
            passed=all(v == 1 for v in kept_per[:4]),
            values={"kept_isolated": str(kept_per[:4])},
        ),
        Claim(
            id="hard-nms-drops-occluded",
            text=CLAIMS["hard-nms-drops-occluded"],
            passed=kept_per[-1] == 0,
            values={"occluded_boxes_kept": kept_per[-1], "overlap": measured_overlap},
        ),
        Claim(
            id="soft-nms-keeps-occluded",
            text=CLAIMS["soft-nms-keeps-occluded"],
            passed=all(v == 1 for v in soft_per),
            values={"objects_in_top_k": sum(v > 0 for v in soft_per), "k": n_obj},
        ),
    ]
    return DemoResult(
        summary=f"IoU([0,0,2,2],[1,1,3,3]) = {known:.4f}. Hard NMS at {params.iou_threshold} keeps "
        f"{kept_per} "
        f"boxes per object; soft-NMS's top {n_obj} boxes cover {sum(v > 0 for v in soft_per)} "
        f"of {n_obj} objects.",
        summary_zh=f"IoU([0,0,2,2],[1,1,3,3]) = {known:.4f}。阈值 {params.iou_threshold} 的硬 "
        "NMS 对"
        "各"
        f"目标保留 {kept_per} 个框；"
        f"soft-NMS 的前 {n_obj} 个框覆盖了 {n_obj} 个目标中的 {sum(v > 0 for v in soft_per)} 个。",
        metrics={
            "iou_known": known,
            "hard_nms_boxes": len(kept),
            "occluded_kept_hard": kept_per[-1],
            "objects_found_soft": sum(v > 0 for v in soft_per),
            "pair_iou": measured_overlap,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
