"""Hand-written backprop through a two-layer MLP, checked with autograd and finite differences."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Backpropagation is the chain rule"
DESCRIPTION = (
    "Runs the forward pass of a two-layer MLP, backpropagates by hand with the chain rule, "
    "compares the result with autograd and finite differences, then takes gradient-descent steps."
)
CLAIMS = {
    "manual-chain-rule-matches-autograd": (
        "The hand-written backward pass (with the configured chain) gives the same weight "
        "gradients as autograd (max relative error below 1e-6)."
    ),
    "manual-chain-rule-matches-finite-differences": (
        "The hand-written first-layer gradient matches central finite differences with the "
        "configured step (max relative error below 1e-4)."
    ),
    "gradient-step-lowers-loss": (
        "One update W <- W - lr * dL/dW with the configured learning rate lowers the loss."
    ),
    "gradient-descent-beats-weight-shrinking": (
        "After the configured number of steps, W <- W - lr * dL/dW reaches a lower loss than the "
        "gradient-free rule W <- W - lr * W (which only shrinks the weights)."
    ),
}
TITLE_ZH = "反向传播就是链式法则"
DESCRIPTION_ZH = (
    "对一个两层 MLP 做前向传播，用链式法则手工反向传播，与 autograd 和有限差分比较，然后做几步梯"
    "度下降。"
)
CLAIMS_ZH = {
    "manual-chain-rule-matches-autograd": (
        "手写的反向传播（按所设的链）给出的权重梯度与 autograd 相同（最大相对误差小于 1e-6）。"
    ),
    "manual-chain-rule-matches-finite-differences": (
        "手写的第一层梯度与所设步长的中心有限差分一致（最大相对误差小于 1e-4）。"
    ),
    "gradient-step-lowers-loss": "按所设学习率做一次 W <- W - lr * dL/dW 更新会降低损失。",
    "gradient-descent-beats-weight-shrinking": (
        "经过所设步数后，W <- W - lr * dL/dW 达到的损失低于不看梯度的规则 W <- W - lr * W（它只会"
        "缩小权重）。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "manual-chain-rule-matches-autograd": "chain full (the default)",
    "manual-chain-rule-matches-finite-differences": (
        "chain full with fd_eps between 1e-7 and about 1e-3"
    ),
    "gradient-step-lowers-loss": "lr small enough for one step, about lr <= 1 (the default 0.1)",
    "gradient-descent-beats-weight-shrinking": "lr <= 1 with steps >= 10",
}
CLAIM_SHOWN_WHEN_ZH = {
    "manual-chain-rule-matches-autograd": "chain 为 full（默认）",
    "manual-chain-rule-matches-finite-differences": "chain 为 full，fd_eps 在 1e-7 到约 1e-3 之间",
    "gradient-step-lowers-loss": "lr 足够小，大约 lr <= 1（默认 0.1）",
    "gradient-descent-beats-weight-shrinking": "lr <= 1 且 steps >= 10",
}
TEXT_ZH = {
    "Hidden units": "隐藏单元数",
    "Hidden activation": "隐藏层激活函数",
    (
        "Hand-written backward: the full chain rule, or a buggy one that forgets the "
        "activation's derivative"
    ): ("手写反向传播：完整的链式法则，或漏掉激活函数导数的错误版本"),
    "Step of the central finite difference": "中心有限差分的步长",
    "Learning rate of the update steps": "更新步的学习率",
    "Update steps for the comparison of update rules": "比较更新规则时的更新步数",
    "Loss under two update rules": "两种更新规则下的损失",
    "step": "步数",
    "MSE loss": "MSE 损失",
    "First-layer gradient entries": "第一层梯度的各个元素",
    "entry": "元素",
    "manual": "手写",
    "autograd": "autograd",
    "finite diff": "有限差分",
    "W - lr * dL/dW": "W - lr * dL/dW",
    "W - lr * W (seed's rule)": "W - lr * W（只缩小权重的规则）",
}


class Params(BaseModel):
    hidden: int = Field(8, ge=2, le=64, description="Hidden units")
    activation: Literal["tanh", "sigmoid", "relu"] = Field("tanh", description="Hidden activation")
    chain: Literal["full", "skip-activation-derivative"] = Field(
        "full",
        description=(
            "Hand-written backward: the full chain rule, or a buggy one that forgets the "
            "activation's derivative"
        ),
    )
    fd_eps: float = Field(
        1e-5, ge=1e-7, le=1.0, description="Step of the central finite difference"
    )
    lr: float = Field(0.1, ge=1e-4, le=50.0, description="Learning rate of the update steps")
    steps: int = Field(
        50, ge=1, le=500, description="Update steps for the comparison of update rules"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    dt = torch.float64
    n, d_in = 64, 4
    x = torch.randn(n, d_in, dtype=dt).to(device)
    y = torch.sin(x[:, :1] * 2) + 0.5 * x[:, 1:2] * x[:, 2:3]

    w1 = torch.randn(params.hidden, d_in, dtype=dt).to(device) / d_in**0.5
    b1 = torch.zeros(params.hidden, dtype=dt, device=device)
    w2 = torch.randn(1, params.hidden, dtype=dt).to(device) / params.hidden**0.5
    b2 = torch.zeros(1, dtype=dt, device=device)

    def act(z: torch.Tensor) -> torch.Tensor:
        if params.activation == "tanh":
            return torch.tanh(z)
        if params.activation == "sigmoid":
            return torch.sigmoid(z)
        return torch.relu(z)

    def act_grad(z: torch.Tensor) -> torch.Tensor:
        if params.activation == "tanh":
            return 1 - torch.tanh(z) ** 2
        if params.activation == "sigmoid":
            s = torch.sigmoid(z)
            return s * (1 - s)
        return (z > 0).to(z.dtype)

    def forward(w1, b1, w2, b2):
        z1 = x @ w1.T + b1  # pre-activations: the forward pass computes activations, not weights
        h = act(z1)
        out = h @ w2.T + b2
        loss = ((out - y) ** 2).mean()
        return loss, (z1, h, out)

    def manual_backward(w1, b1, w2, b2):
        loss, (z1, h, out) = forward(w1, b1, w2, b2)
        d_out = 2 * (out - y) / n  # dL/d out
        g_w2 = d_out.T @ h  # dL/dW2 = dL/dout * dout/dW2
        g_b2 = d_out.sum(0)
        d_h = d_out @ w2  # dL/dh: send the error back through W2
        d_z1 = d_h * act_grad(z1) if params.chain == "full" else d_h
        g_w1 = d_z1.T @ x
        g_b1 = d_z1.sum(0)
        return loss, (g_w1, g_b1, g_w2, g_b2)

    ctx.progress(0.2, "manual backward and autograd")
    loss0, manual = manual_backward(w1, b1, w2, b2)
    leaves = [t.clone().requires_grad_(True) for t in (w1, b1, w2, b2)]
    loss_auto, _ = forward(*leaves)
    auto = torch.autograd.grad(loss_auto, leaves)

    def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
        return float(((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item())

    err_auto = max(rel_err(m, a) for m, a in zip(manual, auto, strict=True))

    ctx.progress(0.4, "finite differences")
    fd = torch.zeros_like(w1)
    eps = params.fd_eps
    for i in range(w1.shape[0]):
        for j in range(w1.shape[1]):
            wp, wm = w1.clone(), w1.clone()
            wp[i, j] += eps
            wm[i, j] -= eps
            fd[i, j] = (forward(wp, b1, w2, b2)[0] - forward(wm, b1, w2, b2)[0]) / (2 * eps)
    err_fd = rel_err(manual[0], fd)

    ctx.progress(0.6, "update rules")
    lr = params.lr

    def train(rule: str) -> list[float]:
        p = [t.clone() for t in (w1, b1, w2, b2)]
        losses = [float(loss0.item())]
        for _ in range(params.steps):
            _, grads = manual_backward(*p)
            if rule == "gradient":
                p = [t - lr * g for t, g in zip(p, grads, strict=True)]
            else:
                p = [t - lr * t for t in p]
            loss = float(forward(*p)[0].item())
            losses.append(loss if loss == loss and abs(loss) < 1e12 else 1e12)
        return losses

    gd = train("gradient")
    shrink = train("shrink")
    one_step_lower = gd[1] < gd[0]
    gd_wins = gd[-1] < shrink[-1]

    xs = [float(i) for i in range(params.steps + 1)]
    chart = Chart(
        id="update-rules",
        title="Loss under two update rules",
        x_label="step",
        y_label="MSE loss",
        log_y=True,
        series=[
            Series(name="W - lr * dL/dW", x=xs, y=[max(v, 1e-12) for v in gd]),
            Series(name="W - lr * W (seed's rule)", x=xs, y=[max(v, 1e-12) for v in shrink]),
        ],
    )
    rows = [
        [
            f"W1[0,{j}]",
            float(manual[0][0, j].item()),
            float(auto[0][0, j].item()),
            float(fd[0, j].item()),
        ]
        for j in range(d_in)
    ]
    table = Table(
        title="First-layer gradient entries",
        columns=["entry", "manual", "autograd", "finite diff"],
        rows=rows,
    )
    claims = [
        Claim(
            id="manual-chain-rule-matches-autograd",
            text=CLAIMS["manual-chain-rule-matches-autograd"],
            passed=bool(err_auto < 1e-6),
            values={"max_rel_error": err_auto, "chain": params.chain},
        ),
        Claim(
            id="manual-chain-rule-matches-finite-differences",
            text=CLAIMS["manual-chain-rule-matches-finite-differences"],
            passed=bool(err_fd < 1e-4),
            values={"max_rel_error": err_fd, "fd_eps": eps},
        ),
        Claim(
            id="gradient-step-lowers-loss",
            text=CLAIMS["gradient-step-lowers-loss"],
            passed=bool(one_step_lower),
            values={"loss_before": gd[0], "loss_after_one_step": gd[1], "lr": lr},
        ),
        Claim(
            id="gradient-descent-beats-weight-shrinking",
            text=CLAIMS["gradient-descent-beats-weight-shrinking"],
            passed=bool(gd_wins),
            values={
                "gradient_rule_loss": gd[-1],
                "shrink_rule_loss": shrink[-1],
                "steps": params.steps,
            },
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"手写链式法则与 autograd 的最大相对误差 {err_auto:.1e}，与有限差分的 {err_fd:.1e}。"
            f"{params.steps} 步后：梯度规则的损失 {gd[-1]:.3g}，W - lr*W 规则的损失 "
            f"{shrink[-1]:.3g}。"
        ),
        summary=(
            f"Manual chain rule vs autograd: max relative error {err_auto:.1e}; vs finite "
            f"differences "
            f"{err_fd:.1e}. After {params.steps} steps: gradient rule loss {gd[-1]:.3g}, "
            f"W - lr*W rule loss {shrink[-1]:.3g}."
        ),
        metrics={
            "initial_loss": gd[0],
            "manual_vs_autograd_rel_error": err_auto,
            "manual_vs_finite_diff_rel_error": err_fd,
            "gradient_rule_final_loss": gd[-1],
            "shrink_rule_final_loss": shrink[-1],
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
