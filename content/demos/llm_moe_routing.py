"""Mixture of experts: top-k routing collapses without a load-balancing loss."""

# ruff: noqa: E501  (Chinese strings count double width; splitting them hurts reading)

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "MoE routing with and without a load-balancing loss"
DESCRIPTION = (
    "Trains the same small top-k mixture-of-experts layer twice on clustered data, without and "
    "with the Switch-Transformer load-balancing loss, and compares how tokens spread over the "
    "experts."
)
TITLE_ZH = "有无负载均衡损失时的 MoE 路由"
DESCRIPTION_ZH = (
    "在聚类数据上把同一个小的 top-k 混合专家层训练两次，一次不加、一次加 Switch Transformer 的负载均衡损失，"
    "比较 token 在各专家之间的分布。"
)
CLAIMS = {
    "collapse-without-balancing": (
        "Without the balancing loss, routing collapses: the busiest expert takes at least 40% "
        "of the tokens, or at most half of the experts get 5% of the tokens each."
    ),
    "balancing-spreads-load": (
        "With the configured balancing coefficient, every expert gets at least 5% of the tokens "
        "and the busiest at most twice the uniform share."
    ),
    "aux-loss-near-one-when-balanced": (
        "With the configured balancing coefficient, the balancing loss E * sum_i f_i P_i ends "
        "within 0.1 of 1, its value under uniform routing."
    ),
}
CLAIMS_ZH = {
    "collapse-without-balancing": "不加均衡损失时路由会塌缩：最忙的专家至少拿到 40% 的 token，或者最多一半的专家各拿到 5% 以上的 token。",
    "balancing-spreads-load": "在所选均衡系数下，每个专家至少拿到 5% 的 token，最忙的专家不超过均匀份额的 2 倍。",
    "aux-loss-near-one-when-balanced": "在所选均衡系数下，均衡损失 E * sum_i f_i P_i 最终与 1 相差不到 0.1，1 是均匀路由时的值。",
}
CLAIM_SHOWN_WHEN = {
    "collapse-without-balancing": "always (the unbalanced run ignores balance_coef)",
    "balancing-spreads-load": "balance_coef >= 0.01",
    "aux-loss-near-one-when-balanced": "balance_coef >= 0.01",
}
CLAIM_SHOWN_WHEN_ZH = {
    "collapse-without-balancing": "总成立（不均衡的那次训练不使用 balance_coef）",
    "balancing-spreads-load": "balance_coef >= 0.01",
    "aux-loss-near-one-when-balanced": "balance_coef >= 0.01",
}
TEXT_ZH = {
    "Share of tokens routed to each expert": "路由到每个专家的 token 比例",
    "expert": "专家",
    "share of tokens": "token 比例",
    "no balancing loss": "无均衡损失",
    "with balancing loss": "有均衡损失",
    "uniform": "均匀",
    "Busiest expert's share during training": "训练过程中最忙专家的份额",
    "step": "步数",
    "share": "份额",
    "Routing after training": "训练后的路由",
    "run": "训练方式",
    "busiest expert": "最忙的专家",
    "experts with >= 5%": "份额 >= 5% 的专家数",
    "balancing loss": "均衡损失",
    "task loss": "任务损失",
    "Number of experts E": "专家数 E",
    "Experts each token is sent to (k)": "每个 token 发往的专家数（k）",
    "Weight of the load-balancing loss in the balanced run": "均衡训练中负载均衡损失的权重",
    "Training steps per run": "每次训练的步数",
}


class Params(BaseModel):
    experts: int = Field(8, ge=2, le=16, description="Number of experts E")
    top_k: int = Field(1, ge=1, le=4, description="Experts each token is sent to (k)")
    balance_coef: float = Field(
        0.05, ge=0.0, le=1.0, description="Weight of the load-balancing loss in the balanced run"
    )
    steps: int = Field(150, ge=50, le=1000, description="Training steps per run")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    import torch.nn.functional as F

    if params.top_k > params.experts:
        raise ValueError(f"top_k={params.top_k} must not exceed experts={params.experts}")
    device = torch.device(ctx.device)
    e, k, d = params.experts, params.top_k, 16

    torch.manual_seed(ctx.seed)
    # One smooth target for every token: any expert could learn it, so nothing but the
    # balancing loss stops the router from favouring whichever expert got ahead first.
    teacher1 = torch.randn(d, 64) / d**0.5
    teacher2 = torch.randn(64, d) / 8.0
    # Hidden states in real models share a large common direction; routing sees it too.
    offset = torch.randn(d)
    offset = 5.0 * offset / offset.norm()

    def batch(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(n, d) + offset
        y = torch.tanh(x @ teacher1) @ teacher2
        return x.to(device), y.to(device)

    def train(coef: float) -> dict[str, object]:
        torch.manual_seed(ctx.seed + 1)  # same initial weights for both runs
        router = (torch.randn(d, e) * 0.01).to(device).requires_grad_()
        w1 = (torch.randn(e, d, 32) / d**0.5).to(device).requires_grad_()
        w2 = (torch.randn(e, 32, d) / 32**0.5).to(device).requires_grad_()
        opt = torch.optim.Adam([router, w1, w2], lr=0.01)
        busiest = []
        for _ in range(params.steps):
            x, y = batch(128)
            probs = torch.softmax(x @ router, dim=-1)  # (n, e)
            gate, idx = probs.topk(k, dim=-1)
            out = torch.zeros_like(y)
            for slot in range(k):
                h = torch.einsum("nd,ndh->nh", x, w1[idx[:, slot]])
                expert_out = torch.einsum("nh,nhd->nd", F.gelu(h), w2[idx[:, slot]])
                out = out + gate[:, slot : slot + 1] * expert_out
            task = F.mse_loss(out, y)
            # Switch Transformer: E * sum_i f_i P_i, f = share of routed slots, P = mean prob.
            f = torch.bincount(idx.flatten(), minlength=e).float() / idx.numel()
            p_mean = probs.mean(dim=0)
            aux = e * (f * p_mean).sum()
            loss = task + coef * aux
            opt.zero_grad()
            loss.backward()
            opt.step()
            busiest.append(float(f.max()))
        with torch.no_grad():
            x, y = batch(4096)
            probs = torch.softmax(x @ router, dim=-1)
            idx = probs.topk(k, dim=-1).indices
            share = torch.bincount(idx.flatten(), minlength=e).float() / idx.numel()
            aux_end = float(e * (share * probs.mean(dim=0)).sum())
        return {
            "share": share.tolist(),
            "busiest": busiest,
            "aux": aux_end,
            "task": float(task.detach()),
        }

    ctx.progress(0.1, "training without balancing")
    plain = train(0.0)
    ctx.progress(0.55, "training with balancing")
    balanced = train(params.balance_coef)

    def summary(run_: dict[str, object]) -> tuple[float, int]:
        share = run_["share"]
        assert isinstance(share, list)
        return max(share), sum(s >= 0.05 for s in share)

    plain_max, plain_used = summary(plain)
    bal_max, bal_used = summary(balanced)
    uniform = 1.0 / e
    ctx.progress(0.9, "summarizing")
    claims = [
        Claim(
            id="collapse-without-balancing",
            text=CLAIMS["collapse-without-balancing"],
            passed=bool(plain_max >= 0.4 or plain_used <= e // 2),
            values={"busiest_share": plain_max, "experts_used": plain_used, "experts": e},
        ),
        Claim(
            id="balancing-spreads-load",
            text=CLAIMS["balancing-spreads-load"],
            passed=bool(bal_used == e and bal_max <= 2 * uniform),
            values={"busiest_share": bal_max, "experts_used": bal_used, "uniform": uniform},
        ),
        Claim(
            id="aux-loss-near-one-when-balanced",
            text=CLAIMS["aux-loss-near-one-when-balanced"],
            passed=bool(abs(float(balanced["aux"]) - 1.0) <= 0.1),  # type: ignore[arg-type]
            values={"aux_balanced": balanced["aux"], "aux_unbalanced": plain["aux"]},  # type: ignore[dict-item]
        ),
    ]
    xs = [float(i) for i in range(e)]
    plain_busiest = plain["busiest"]
    bal_busiest = balanced["busiest"]
    assert isinstance(plain_busiest, list) and isinstance(bal_busiest, list)
    steps = [float(i + 1) for i in range(params.steps)]
    return DemoResult(
        summary=(
            f"{e} experts, top-{k}: without balancing the busiest expert takes {plain_max:.0%} "
            f"and {plain_used}/{e} experts get >= 5%; with coefficient {params.balance_coef} the "
            f"busiest takes {bal_max:.0%} and {bal_used}/{e} get >= 5% (balancing loss "
            f"{balanced['aux']:.2f})."
        ),
        summary_zh=(
            f"{e} 个专家，top-{k}：不加均衡时最忙的专家拿走 {plain_max:.0%}，{plain_used}/{e} 个专家份额 >= 5%；"
            f"系数 {params.balance_coef} 时最忙的专家拿走 {bal_max:.0%}，{bal_used}/{e} 个专家份额 >= 5%"
            f"（均衡损失 {balanced['aux']:.2f}）。"
        ),
        metrics={
            "busiest_share_plain": plain_max,
            "experts_used_plain": plain_used,
            "busiest_share_balanced": bal_max,
            "experts_used_balanced": bal_used,
            "aux_plain": plain["aux"],  # type: ignore[dict-item]
            "aux_balanced": balanced["aux"],  # type: ignore[dict-item]
        },
        tables=[
            Table(
                title="Routing after training",
                columns=[
                    "run",
                    "busiest expert",
                    "experts with >= 5%",
                    "balancing loss",
                    "task loss",
                ],
                rows=[
                    ["no balancing loss", plain_max, plain_used, plain["aux"], plain["task"]],  # type: ignore[list-item]
                    ["with balancing loss", bal_max, bal_used, balanced["aux"], balanced["task"]],  # type: ignore[list-item]
                ],
            )
        ],
        charts=[
            Chart(
                id="shares",
                title="Share of tokens routed to each expert",
                kind="bar",
                x_label="expert",
                y_label="share of tokens",
                categories=[str(i) for i in range(e)],
                series=[
                    Series(name="no balancing loss", x=xs, y=plain["share"]),  # type: ignore[arg-type]
                    Series(name="with balancing loss", x=xs, y=balanced["share"]),  # type: ignore[arg-type]
                    Series(name="uniform", x=xs, y=[uniform] * e),
                ],
            ),
            Chart(
                id="busiest",
                title="Busiest expert's share during training",
                x_label="step",
                y_label="share",
                series=[
                    Series(name="no balancing loss", x=steps, y=plain_busiest),
                    Series(name="with balancing loss", x=steps, y=bal_busiest),
                ],
            ),
        ],
        claims=claims,
    )
