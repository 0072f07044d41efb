"""InfoNCE: temperature sharpens the similarity distribution; the loss bounds mutual information."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "InfoNCE and its temperature"
TITLE_ZH = "InfoNCE 及其温度"
DESCRIPTION = (
    "Builds a batch of embedding pairs (two noisy views of each item), computes the symmetric "
    "InfoNCE / CLIP loss at several temperatures, and measures how sharp the softmax over "
    "similarities is and where the gradient on negatives goes."
)
DESCRIPTION_ZH = (
    "构造一批嵌入对（每个样本的两个带噪视图），在多个温度下计算对称的 InfoNCE / CLIP 损失，测"
    "量相似度 softmax 有多尖锐、负样本上的梯度集中在哪里。"
)
CLAIMS = {
    "lower-temperature-sharpens": (
        "Lowering the temperature from 1.0 to the chosen value lowers the entropy of the softmax "
        "over each row's similarities and raises the weight of the top entry."
    ),
    "low-temperature-focuses-on-hard-negatives": (
        "At the chosen temperature the hardest negative in each row gets at least 10 times the "
        "share of the negatives' gradient weight it gets at temperature 1, where the weight is "
        "spread almost evenly."
    ),
    "random-embeddings-loss-is-log-n": (
        "With unrelated embeddings the loss is close to log N (within 10%), the value for a "
        "uniform guess among N candidates."
    ),
    "mi-bound": (
        "For aligned pairs, log N - loss is positive: InfoNCE gives a lower bound on the mutual "
        "information between the views, which can never exceed log N."
    ),
}
CLAIMS_ZH = {
    ("lower-temperature-sharpens"): (
        "把温度从 1.0 降到所选值，每行相似度 softmax 的熵降低，最大项的权重升高。"
    ),
    "low-temperature-focuses-on-hard-negatives": (
        "在所选温度下，每行最难的负样本在负样本梯度权重中的占比至少是温度为 1 时的 10 倍；温度"
        "为 1 时权重几乎均匀分布。"
    ),
    ("random-embeddings-loss-is-log-n"): (
        "嵌入互不相关时，损失接近 log N（误差 10% 以内），即在 N 个候选中均匀猜测的值。"
    ),
    "mi-bound": (
        "对齐的样本对上 log N - loss 为正：InfoNCE 给出两个视图之间互信息的下界，而这个下界不"
        "会超过 log N。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "random-embeddings-loss-is-log-n": "always: it does not depend on the parameters",
    "mi-bound": "noise below about 2 (the views still share signal)",
    "lower-temperature-sharpens": "temperature <= 0.2",
    "low-temperature-focuses-on-hard-negatives": "temperature <= 0.1",
}
CLAIM_SHOWN_WHEN_ZH = {
    "random-embeddings-loss-is-log-n": "总成立：与参数无关",
    "mi-bound": "noise 小于约 2（两个视图仍共享信号）",
    "lower-temperature-sharpens": "temperature <= 0.2",
    "low-temperature-focuses-on-hard-negatives": "temperature <= 0.1",
}
TEXT_ZH = {
    "Softmax temperature tau": "softmax 温度 tau",
    "Batch size N": "批大小 N",
    "Embedding dimension": "嵌入维度",
    "Noise between the two views": "两个视图之间的噪声",
    "Sharpness of the similarity softmax vs temperature": "相似度 softmax 的尖锐程度随温度的变化",
    "temperature": "温度",
    "value": "值",
    "row entropy (nats)": "每行熵（nats）",
    "top weight": "最大项权重",
    "hardest-negative share": "最难负样本占比",
    "Loss per temperature": "各温度下的损失",
    "loss": "损失",
}


class Params(BaseModel):
    temperature: float = Field(0.07, ge=0.01, le=2.0, description="Softmax temperature tau")
    batch: int = Field(256, ge=8, le=1024, description="Batch size N")
    dim: int = Field(64, ge=8, le=256, description="Embedding dimension")
    noise: float = Field(0.8, ge=0.0, le=3.0, description="Noise between the two views")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import math

    import torch
    from torch.nn import functional as F

    torch.manual_seed(ctx.seed)
    n, d = params.batch, params.dim
    base = torch.randn(n, d)
    a = F.normalize(base + params.noise * torch.randn(n, d), dim=1).to(ctx.device)
    b = F.normalize(base + params.noise * torch.randn(n, d), dim=1).to(ctx.device)
    unrelated = F.normalize(torch.randn(n, d), dim=1).to(ctx.device)
    labels = torch.arange(n).to(ctx.device)

    def clip_loss(x, y, tau: float) -> float:  # type: ignore[no-untyped-def]
        logits = x @ y.T / tau
        return float((F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2)

    def sharpness(tau: float) -> tuple[float, float, float]:
        p = torch.softmax(a @ b.T / tau, dim=1)
        entropy = float(-(p * torch.log(p + 1e-30)).sum(1).mean())
        top = float(p.max(1).values.mean())
        # Gradient of the loss w.r.t. each negative logit is its softmax weight p_ij.
        neg = p.masked_fill(torch.eye(n, dtype=torch.bool, device=p.device), 0.0)
        hardest = float((neg.max(1).values / neg.sum(1).clamp(min=1e-30)).mean())
        return entropy, top, hardest

    temps = sorted({0.02, 0.05, 0.07, 0.1, 0.2, 0.5, 1.0, params.temperature})
    stats = {t: sharpness(t) for t in temps}
    losses = {t: clip_loss(a, b, t) for t in temps}
    tau = params.temperature
    random_loss = clip_loss(a, unrelated, tau)
    log_n = math.log(n)
    chart = Chart(
        id="sharpness",
        title="Sharpness of the similarity softmax vs temperature",
        x_label="temperature",
        y_label="value",
        series=[
            Series(name="row entropy (nats)", x=temps, y=[stats[t][0] for t in temps]),
            Series(name="top weight", x=temps, y=[stats[t][1] for t in temps]),
            Series(name="hardest-negative share", x=temps, y=[stats[t][2] for t in temps]),
        ],
    )
    table = Table(
        title="Loss per temperature",
        columns=["temperature", "loss", "row entropy (nats)", "hardest-negative share"],
        rows=[[t, losses[t], stats[t][0], stats[t][2]] for t in temps],
    )
    e1, top1, h1 = stats[1.0]
    et, topt, ht = stats[tau]
    claims = [
        Claim(
            id="lower-temperature-sharpens",
            text=CLAIMS["lower-temperature-sharpens"],
            passed=et < e1 - 0.1 and topt > top1,
            values={"entropy_tau": et, "entropy_1": e1, "top_tau": topt, "top_1": top1},
        ),
        Claim(
            id="low-temperature-focuses-on-hard-negatives",
            text=CLAIMS["low-temperature-focuses-on-hard-negatives"],
            passed=ht >= 10 * h1,
            values={"hardest_share_tau": ht, "hardest_share_1": h1},
        ),
        Claim(
            id="random-embeddings-loss-is-log-n",
            text=CLAIMS["random-embeddings-loss-is-log-n"],
            passed=abs(clip_loss(a, unrelated, 1.0) - log_n) / log_n < 0.1,
            values={
                "loss_unrelated_tau1": clip_loss(a, unrelated, 1.0),
                "log_n": log_n,
                "loss_unrelated_tau": random_loss,
            },
        ),
        Claim(
            id="mi-bound",
            text=CLAIMS["mi-bound"],
            passed=0 < log_n - losses[tau] <= log_n,
            values={"bound_nats": log_n - losses[tau], "log_n": log_n},
        ),
    ]
    return DemoResult(
        summary=f"N = {n}: at tau = {tau} the row entropy is {et:.2f} nats (vs {e1:.2f} at tau = "
        "1) "
        "and the hardest "
        f"negative takes {ht:.0%} of the negatives' gradient (vs {h1:.1%}); loss "
        f"{losses[tau]:.3f}, "
        f"log N = {log_n:.3f}.",
        summary_zh=f"N = {n}：tau = {tau} 时每行熵为 {et:.2f} nats（tau = 1 时为 {e1:.2f}），最难"
        "的负"
        "样本拿到负样本梯度的 "
        f"{ht:.0%}（tau = 1 时为 {h1:.1%}）；损失 {losses[tau]:.3f}，log N = {log_n:.3f}。",
        metrics={
            "entropy_tau": et,
            "entropy_1": e1,
            "hardest_share_tau": ht,
            "loss_tau": losses[tau],
            "log_n": log_n,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
