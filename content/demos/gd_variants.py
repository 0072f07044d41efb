"""Full-batch, mini-batch and single-sample gradient descent on the same linear regression."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Batch, mini-batch and stochastic gradient descent"
DESCRIPTION = (
    "Trains the same linear regression for the same number of epochs with full-batch gradient "
    "descent and with mini-batches of the configured size, and measures loss and gradient noise."
)
CLAIMS = {
    "minibatch-lower-loss-per-epoch": (
        "After the same number of epochs (passes over the data), training with the configured "
        "batch size reaches a training loss at least 2x closer to the optimum than full-batch "
        "gradient descent, because it makes N/B updates per epoch instead of one."
    ),
    "minibatch-noise-floor": (
        "With a constant learning rate, training with the configured batch size stalls at a noise "
        "floor: its final loss is more than 1% above the least-squares optimum, while full-batch "
        "GD "
        "given the same number of updates (up to 3000) gets at least 10x closer to the optimum."
    ),
}
TITLE_ZH = "批量、小批量和随机梯度下降"
DESCRIPTION_ZH = (
    "用全批量梯度下降和所设大小的小批量，对同一个线性回归训练相同的轮数，测量损失和梯度噪声。"
)
CLAIMS_ZH = {
    "minibatch-lower-loss-per-epoch": (
        "相同轮数（遍历数据的次数）后，用所设批大小训练的损失离最优值至少比全批量梯度下降近 2 倍"
        "，因为每轮做 N/B 次更新而不是一次。"
    ),
    "minibatch-noise-floor": (
        "学习率恒定时，用所设批大小训练会停在噪声底：最终损失比最小二乘最优值高 1% 以上，而给同样"
        "更新次数（至多 3000）的全批量 GD 至少近 10 倍。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "minibatch-lower-loss-per-epoch": "batch_size <= 64 (many updates per epoch) with a stable lr",
    "minibatch-noise-floor": "noise >= 0.2 with batch_size <= 64 and a constant lr >= 0.01",
}
CLAIM_SHOWN_WHEN_ZH = {
    "minibatch-lower-loss-per-epoch": "batch_size <= 64（每轮更新次数多）且 lr 稳定",
    "minibatch-noise-floor": "noise >= 0.2、batch_size <= 64 且常数 lr >= 0.01",
}
TEXT_ZH = {
    "Mini-batch size B (512 = full batch)": "小批量大小 B（512 = 全批量）",
    "Learning rate (same for every variant)": "学习率（各变体相同）",
    "Passes over the 512 training samples": "遍历 512 个训练样本的轮数",
    "Std of the label noise": "标签噪声的标准差",
    "Final training loss after the same number of epochs": "相同轮数后的最终训练损失",
    "variant": "变体",
    "updates": "更新次数",
    "final loss": "最终损失",
    "excess over optimum": "超出最优值的部分",
    "full batch (B=512)": "全批量（B=512）",
    "full batch, same number of updates": "全批量，相同更新次数",
    "Training loss per epoch": "每轮的训练损失",
    "epoch": "轮",
    "loss (MSE/2)": "损失（MSE/2）",
    "full batch": "全批量",
    "optimum": "最优值",
}


class Params(BaseModel):
    batch_size: int = Field(8, ge=1, le=512, description="Mini-batch size B (512 = full batch)")
    lr: float = Field(0.05, ge=0.001, le=0.5, description="Learning rate (same for every variant)")
    epochs: int = Field(20, ge=1, le=60, description="Passes over the 512 training samples")
    noise: float = Field(0.5, ge=0.0, le=2.0, description="Std of the label noise")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    n, d = 512, 10
    gen = torch.Generator().manual_seed(ctx.seed)
    X = torch.randn(n, d, generator=gen, dtype=torch.float64).to(device)
    w_true = torch.randn(d, generator=gen, dtype=torch.float64).to(device)
    y = X @ w_true + params.noise * torch.randn(n, generator=gen, dtype=torch.float64).to(device)

    def loss(w: torch.Tensor) -> float:
        return float((0.5 * ((X @ w - y) ** 2).mean()).item())

    w_opt = torch.linalg.lstsq(X, y.unsqueeze(1)).solution.squeeze(1)
    opt_loss = loss(w_opt)

    def train(batch: int) -> tuple[list[float], int, float]:
        w = torch.zeros(d, dtype=torch.float64, device=device)
        curve = [loss(w)]
        updates = 0
        g = torch.Generator().manual_seed(ctx.seed + 1)
        for _ in range(params.epochs):
            perm = torch.randperm(n, generator=g).to(device)
            for start in range(0, n, batch):
                idx = perm[start : start + batch]
                xb, yb = X[idx], y[idx]
                grad = xb.T @ (xb @ w - yb) / len(idx)
                w = w - params.lr * grad
                updates += 1
            cur = loss(w)
            curve.append(cur if cur == cur and cur < 1e12 else 1e12)
        return curve, updates, curve[-1]

    ctx.progress(0.2, "full-batch gradient descent")
    full_curve, full_updates, full_final = train(n)
    ctx.progress(0.5, "mini-batch gradient descent")
    mb_curve, mb_updates, mb_final = train(params.batch_size)

    # Gradient noise at the starting point: spread of mini-batch gradients around the full gradient.
    w0 = torch.zeros(d, dtype=torch.float64, device=device)
    full_grad = X.T @ (X @ w0 - y) / n
    g = torch.Generator().manual_seed(ctx.seed + 2)
    devs = []
    for _ in range(200):
        idx = torch.randperm(n, generator=g)[: params.batch_size].to(device)
        gb = X[idx].T @ (X[idx] @ w0 - y[idx]) / params.batch_size
        devs.append(float(((gb - full_grad) ** 2).sum().item()))
    grad_noise = sum(devs) / len(devs)
    full_norm2 = float((full_grad**2).sum().item())

    full_excess = max(full_final - opt_loss, 0.0)
    mb_excess = max(mb_final - opt_loss, 0.0)
    ratio = full_excess / max(mb_excess, 1e-300)
    c1 = mb_excess * 2 <= full_excess and mb_final < 1e12
    # The same number of updates with exact (full-batch) gradients, capped to keep the demo fast.
    same_updates = min(mb_updates, 3000)
    w = torch.zeros(d, dtype=torch.float64, device=device)
    for _ in range(same_updates):
        w = w - params.lr * (X.T @ (X @ w - y) / n)
    exact_final = loss(w)
    exact_excess = max(exact_final - opt_loss, 0.0) if exact_final < 1e12 else 1e12
    c2 = mb_final < 1e12 and mb_excess > 0.01 * opt_loss and exact_excess < 0.1 * mb_excess

    epochs_x = [float(i) for i in range(params.epochs + 1)]
    floor = max(opt_loss, 1e-12)
    return DemoResult(
        summary_zh=(
            f"{params.epochs} 轮后：全批量 GD（{full_updates} 次更新）损失 {full_final:.4g}，批大"
            f"小 {params.batch_size}（{mb_updates} 次更新）损失 {mb_final:.4g}；最小二乘最优值 "
            f"{opt_loss:.4g}。"
        ),
        summary=(
            f"After {params.epochs} epochs: full-batch GD ({full_updates} updates) loss "
            f"{full_final:.4g}, batch size {params.batch_size} ({mb_updates} updates) loss "
            f"{mb_final:.4g}; least-squares optimum {opt_loss:.4g}."
        ),
        metrics={
            "optimal_loss": opt_loss,
            "full_batch_final_loss": full_final,
            "minibatch_final_loss": mb_final,
            "full_batch_updates": full_updates,
            "minibatch_updates": mb_updates,
            "minibatch_grad_noise_sq": grad_noise,
            "full_grad_norm_sq": full_norm2,
        },
        tables=[
            Table(
                title="Final training loss after the same number of epochs",
                columns=["variant", "updates", "final loss", "excess over optimum"],
                rows=[
                    ["full batch (B=512)", full_updates, full_final, full_excess],
                    [
                        "full batch, same number of updates",
                        same_updates,
                        exact_final if exact_final < 1e12 else 1e12,
                        exact_excess,
                    ],
                    [f"mini-batch (B={params.batch_size})", mb_updates, mb_final, mb_excess],
                ],
            )
        ],
        charts=[
            Chart(
                id="loss-per-epoch",
                title="Training loss per epoch",
                x_label="epoch",
                y_label="loss (MSE/2)",
                log_y=True,
                series=[
                    Series(name="full batch", x=epochs_x, y=[max(v, 1e-12) for v in full_curve]),
                    Series(
                        name=f"B={params.batch_size}",
                        x=epochs_x,
                        y=[max(v, 1e-12) for v in mb_curve],
                    ),
                    Series(name="optimum", x=epochs_x, y=[floor] * len(epochs_x)),
                ],
            )
        ],
        claims=[
            Claim(
                id="minibatch-lower-loss-per-epoch",
                text=CLAIMS["minibatch-lower-loss-per-epoch"],
                passed=bool(c1),
                values={
                    "full_batch_excess": full_excess,
                    "minibatch_excess": mb_excess,
                    "ratio": min(ratio, 1e12),
                },
            ),
            Claim(
                id="minibatch-noise-floor",
                text=CLAIMS["minibatch-noise-floor"],
                passed=bool(c2),
                values={
                    "minibatch_final_loss": mb_final,
                    "optimal_loss": opt_loss,
                    "relative_excess": min(mb_excess / max(opt_loss, 1e-300), 1e12),
                    "full_batch_same_updates_excess": exact_excess,
                    "same_updates": same_updates,
                },
            ),
        ],
    )
