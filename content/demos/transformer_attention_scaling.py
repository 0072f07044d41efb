"""Why attention divides q.k by sqrt(d_k): logit variance, softmax saturation, softmax gradient."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Scaled dot-product attention: why divide by sqrt(d_k)"
TITLE_ZH = "缩放点积注意力：为什么要除以 sqrt(d_k)"
DESCRIPTION = (
    "Draws random unit-variance queries and keys, and compares the attention logits, the largest "
    "softmax weight and the softmax's Jacobian with and without the 1/sqrt(d_k) scale."
)
DESCRIPTION_ZH = (
    "随机生成方差为 1 的 query 和 key，比较有无 1/sqrt(d_k) 缩放时注意力 logit 的方差、"
    "softmax 最大权重和 softmax 的 Jacobian 大小。"
)
CLAIMS = {
    "unscaled-logit-variance-grows": (
        "Without the scale, the variance of q.k is about d_k (within 20%) at every d_k tried."
    ),
    "scaled-logit-variance-one": (
        "With the 1/sqrt(d_k) scale, the variance of the logits stays within 20% of 1 at every "
        "d_k tried."
    ),
    "unscaled-softmax-saturates": (
        "At the chosen d_k, without the scale the mean largest attention weight exceeds 0.9 and "
        "the median softmax Jacobian norm is below a quarter of the scaled version's."
    ),
}
CLAIMS_ZH = {
    "unscaled-logit-variance-grows": (
        "不缩放时，在每个 d_k 下 q·k 的方差都约等于 d_k（误差 20% 以内）。"
    ),
    "scaled-logit-variance-one": (
        "乘以 1/sqrt(d_k) 后，在每个 d_k 下 logit 的方差都在 1 的 20% 以内。"
    ),
    "unscaled-softmax-saturates": (
        "在所选 d_k 下，不缩放时最大注意力权重的均值超过 0.9，"
        "softmax Jacobian 范数的中位数不到缩放版本的四分之一。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "unscaled-logit-variance-grows": (
        "trials >= 50 (fewer queries: the measured variance scatters by more than 20%)"
    ),
    "scaled-logit-variance-one": (
        "trials >= 50 (fewer queries: the measured variance scatters by more than 20%)"
    ),
    "unscaled-softmax-saturates": "d_k >= 512 with 64 keys",
}
CLAIM_SHOWN_WHEN_ZH = {
    "unscaled-logit-variance-grows": "trials >= 50（查询太少时测得的方差波动超过 20%）",
    "scaled-logit-variance-one": "trials >= 50（查询太少时测得的方差波动超过 20%）",
    "unscaled-softmax-saturates": "d_k >= 512、64 个 key 时",
}
TEXT_ZH = {
    "Largest attention weight vs d_k": "最大注意力权重随 d_k 的变化",
    "Softmax Jacobian norm vs d_k": "softmax Jacobian 范数随 d_k 的变化",
    "d_k": "d_k",
    "mean max weight": "最大权重均值",
    "median ||J||_F": "||J||_F 中位数",
    "unscaled q.k": "不缩放 q·k",
    "scaled q.k / sqrt(d_k)": "缩放 q·k / sqrt(d_k)",
    "Logit statistics per d_k": "各 d_k 下的 logit 统计",
    "var unscaled": "不缩放方差",
    "var scaled": "缩放后方差",
    "max weight unscaled": "不缩放最大权重",
    "max weight scaled": "缩放后最大权重",
    "Key dimension d_k checked by the saturation claim": "饱和结论所检查的 key 维度 d_k",
    "Keys each query attends over": "每个 query 所关注的 key 数",
    "Random queries averaged over": "取平均的随机 query 数",
}

SWEEP = [4, 16, 64, 256, 1024]


class Params(BaseModel):
    d_k: int = Field(
        512, ge=4, le=1024, description="Key dimension d_k checked by the saturation claim"
    )
    n_keys: int = Field(64, ge=4, le=512, description="Keys each query attends over")
    trials: int = Field(200, ge=10, le=1000, description="Random queries averaged over")


def _stats(d_k: int, n_keys: int, trials: int) -> dict[str, float]:
    import torch

    q = torch.randn(trials, 1, d_k)
    k = torch.randn(trials, n_keys, d_k)
    out: dict[str, float] = {}
    logits = (q @ k.transpose(1, 2)).squeeze(1)  # (trials, n_keys)
    for name, z in (("unscaled", logits), ("scaled", logits / d_k**0.5)):
        p = torch.softmax(z, dim=-1)
        # Jacobian of softmax: diag(p) - p p^T; its Frobenius norm is how much gradient passes.
        jac = torch.diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1)
        out[f"var_{name}"] = float(z.var().item())
        out[f"max_{name}"] = float(p.max(dim=-1).values.mean().item())
        out[f"jac_{name}"] = float(jac.flatten(1).norm(dim=1).median().item())
    return out


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    sweep = sorted(set(SWEEP) | {params.d_k})
    rows = {d: _stats(d, params.n_keys, params.trials) for d in sweep}
    ctx.progress(0.8, "summarizing")
    chosen = rows[params.d_k]
    var_ok_unscaled = all(0.8 <= r["var_unscaled"] / d <= 1.2 for d, r in rows.items())
    var_ok_scaled = all(0.8 <= r["var_scaled"] <= 1.2 for r in rows.values())
    jac_ratio = chosen["jac_unscaled"] / max(chosen["jac_scaled"], 1e-30)
    saturates = chosen["max_unscaled"] > 0.9 and jac_ratio < 0.25
    xs = [float(d) for d in sweep]
    charts = [
        Chart(
            id="max-weight",
            title="Largest attention weight vs d_k",
            x_label="d_k",
            y_label="mean max weight",
            series=[
                Series(name="unscaled q.k", x=xs, y=[rows[d]["max_unscaled"] for d in sweep]),
                Series(
                    name="scaled q.k / sqrt(d_k)", x=xs, y=[rows[d]["max_scaled"] for d in sweep]
                ),
            ],
        ),
        Chart(
            id="jacobian",
            title="Softmax Jacobian norm vs d_k",
            x_label="d_k",
            y_label="median ||J||_F",
            log_y=True,
            series=[
                Series(
                    name="unscaled q.k",
                    x=xs,
                    y=[max(rows[d]["jac_unscaled"], 1e-12) for d in sweep],
                ),
                Series(
                    name="scaled q.k / sqrt(d_k)",
                    x=xs,
                    y=[max(rows[d]["jac_scaled"], 1e-12) for d in sweep],
                ),
            ],
        ),
    ]
    table = Table(
        title="Logit statistics per d_k",
        columns=["d_k", "var unscaled", "var scaled", "max weight unscaled", "max weight scaled"],
        rows=[
            [d, r["var_unscaled"], r["var_scaled"], r["max_unscaled"], r["max_scaled"]]
            for d, r in rows.items()
        ],
    )
    claims = [
        Claim(
            id="unscaled-logit-variance-grows",
            text=CLAIMS["unscaled-logit-variance-grows"],
            passed=var_ok_unscaled,
            values={f"var_over_dk_{d}": r["var_unscaled"] / d for d, r in rows.items()},
        ),
        Claim(
            id="scaled-logit-variance-one",
            text=CLAIMS["scaled-logit-variance-one"],
            passed=var_ok_scaled,
            values={f"var_{d}": r["var_scaled"] for d, r in rows.items()},
        ),
        Claim(
            id="unscaled-softmax-saturates",
            text=CLAIMS["unscaled-softmax-saturates"],
            passed=bool(saturates),
            values={
                "max_weight_unscaled": chosen["max_unscaled"],
                "max_weight_scaled": chosen["max_scaled"],
                "jacobian_ratio": jac_ratio,
            },
        ),
    ]
    return DemoResult(
        summary=(
            f"d_k={params.d_k}: unscaled logits have variance {chosen['var_unscaled']:.0f} and a "
            f"mean max weight of {chosen['max_unscaled']:.3f}; scaled: variance "
            f"{chosen['var_scaled']:.2f}, max weight {chosen['max_scaled']:.3f}; the softmax "
            f"Jacobian is {jac_ratio:.3f}x the scaled one."
        ),
        summary_zh=(
            f"d_k={params.d_k}：不缩放时 logit 方差 {chosen['var_unscaled']:.0f}，最大权重均值 "
            f"{chosen['max_unscaled']:.3f}；缩放后方差 {chosen['var_scaled']:.2f}，最大权重 "
            f"{chosen['max_scaled']:.3f}；softmax Jacobian 是缩放版本的 {jac_ratio:.3f} 倍。"
        ),
        metrics={
            "var_unscaled": chosen["var_unscaled"],
            "var_scaled": chosen["var_scaled"],
            "max_weight_unscaled": chosen["max_unscaled"],
            "max_weight_scaled": chosen["max_scaled"],
            "jacobian_unscaled": chosen["jac_unscaled"],
            "jacobian_scaled": chosen["jac_scaled"],
            "jacobian_ratio": jac_ratio,
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
