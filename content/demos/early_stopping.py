"""Early stopping on a validation set while an MLP memorizes noisy labels."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Early stopping"
DESCRIPTION = (
    "Trains an MLP on a small 2-D classification set with a fraction of flipped labels, watches "
    "the loss on a held-out validation set, and restores the weights from the best validation "
    "epoch."
)
CLAIMS = {
    "val-loss-turns-up": (
        "Validation loss reaches its minimum and then rises by more than 20% by the end of "
        "training, "
        "while training loss keeps falling: the network has started fitting noise."
    ),
    "early-stopped-model-generalizes-better": (
        "The model restored from the early-stopping epoch has a test loss at least 10% lower than "
        "the model at the end of training."
    ),
}
TITLE_ZH = "早停"
DESCRIPTION_ZH = (
    "在一个带部分翻转标签的小型二维分类集上训练 MLP，观察留出验证集上的损失，并恢复验证最好的那一"
    "轮的权重。"
)
CLAIMS_ZH = {
    "val-loss-turns-up": (
        "验证损失先达到最小值，到训练结束时又上升超过 20%，而训练损失仍在下降：网络开始拟合噪声了。"
    ),
    "early-stopped-model-generalizes-better": (
        "从早停轮恢复的模型测试损失比训练结束时的模型至少低 10%。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "val-loss-turns-up": (
        "label_noise >= 0.2 with weight_decay near 0 and enough steps (epochs >= 200)"
    ),
    "early-stopped-model-generalizes-better": (
        "label_noise >= 0.2, weight_decay near 0 and patience well below epochs"
    ),
}
CLAIM_SHOWN_WHEN_ZH = {
    "val-loss-turns-up": "label_noise >= 0.2、weight_decay 接近 0 且训练步数足够（epochs >= 200）",
    "early-stopped-model-generalizes-better": (
        "label_noise >= 0.2、weight_decay 接近 0 且 patience 远小于 epochs"
    ),
}
TEXT_ZH = {
    "Fraction of training labels flipped": "训练标签被翻转的比例",
    "Training samples": "训练样本数",
    "Hidden units per layer (2 hidden layers)": "每层隐藏单元数（2 个隐藏层）",
    "Full-batch training steps": "全批量训练步数",
    "Steps without validation improvement before stopping": "验证集无改进多少步后停止",
    "AdamW weight decay": "AdamW 权重衰减",
    "Early-stopped vs final model": "早停模型与最终模型",
    "model": "模型",
    "step": "步数",
    "train loss": "训练损失",
    "validation loss": "验证损失",
    "test loss (clean labels)": "测试损失（干净标签）",
    "early-stopped": "早停",
    "final": "最终",
    "Loss during training": "训练过程中的损失",
    "cross-entropy": "交叉熵",
    "train": "训练集",
    "validation": "验证集",
    "test (clean)": "测试集（干净）",
}


class Params(BaseModel):
    label_noise: float = Field(
        0.3, ge=0.0, le=0.45, description="Fraction of training labels flipped"
    )
    n_train: int = Field(200, ge=50, le=1000, description="Training samples")
    hidden: int = Field(128, ge=8, le=128, description="Hidden units per layer (2 hidden layers)")
    epochs: int = Field(300, ge=20, le=600, description="Full-batch training steps")
    patience: int = Field(
        30, ge=1, le=200, description="Steps without validation improvement before stopping"
    )
    weight_decay: float = Field(0.0, ge=0.0, le=0.1, description="AdamW weight decay")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import copy

    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    gen = torch.Generator().manual_seed(ctx.seed)

    def make(n: int, flip: float) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(n, 2, generator=gen) * 1.2
        # Class boundary: a circle plus a sine wiggle, so the clean task needs a nonlinear model.
        y = ((x[:, 0] ** 2 + x[:, 1] ** 2 + 0.5 * torch.sin(3 * x[:, 0])) > 1.8).long()
        flips = torch.rand(n, generator=gen) < flip
        y = torch.where(flips, 1 - y, y)
        return x.to(device), y.to(device)

    x_tr, y_tr = make(params.n_train, params.label_noise)
    x_va, y_va = make(300, params.label_noise)  # validation data is as noisy as training data
    x_te, y_te = make(500, 0.0)  # clean test set

    model = nn.Sequential(
        nn.Linear(2, params.hidden),
        nn.ReLU(),
        nn.Linear(params.hidden, params.hidden),
        nn.ReLU(),
        nn.Linear(params.hidden, 2),
    ).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=params.weight_decay)
    loss_fn = nn.CrossEntropyLoss()

    def evaluate(x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        with torch.no_grad():
            out = model(x)
            return float(loss_fn(out, y).item()), float((out.argmax(1) == y).float().mean().item())

    train_curve, val_curve, test_curve = [], [], []
    best_val, best_epoch = float("inf"), 0  # best over the whole run, for the chart
    es_val, es_epoch, es_state = float("inf"), 0, copy.deepcopy(model.state_dict())
    stop_epoch: int | None = None
    for epoch in range(1, params.epochs + 1):
        opt.zero_grad()
        loss = loss_fn(model(x_tr), y_tr)
        loss.backward()
        opt.step()
        tr, _ = evaluate(x_tr, y_tr)
        va, _ = evaluate(x_va, y_va)
        te, _ = evaluate(x_te, y_te)
        train_curve.append(tr)
        val_curve.append(va)
        test_curve.append(te)
        if va < best_val:
            best_val, best_epoch = va, epoch
        if stop_epoch is None:
            if va < es_val:
                es_val, es_epoch, es_state = va, epoch, copy.deepcopy(model.state_dict())
            elif epoch - es_epoch >= params.patience:
                # Early stopping would halt here; we keep training only to show what follows.
                stop_epoch = epoch
        if epoch % 50 == 0:
            ctx.progress(epoch / params.epochs, f"epoch {epoch}")

    final_test_loss, final_test_acc = evaluate(x_te, y_te)
    model.load_state_dict(es_state)
    es_test_loss, es_test_acc = evaluate(x_te, y_te)
    es_best = es_epoch

    min_val = min(val_curve)
    c1 = val_curve[-1] > 1.2 * min_val and train_curve[-1] < train_curve[best_epoch - 1]
    c2 = es_test_loss <= 0.9 * final_test_loss

    xs = [float(i) for i in range(1, params.epochs + 1)]
    acc_es = es_test_acc
    return DemoResult(
        summary_zh=(
            f"验证损失在第 {best_epoch} 步最低；patience 为 {params.patience} 时训练在第 "
            f"{stop_epoch if stop_epoch is not None else 'end'} 步停止，并恢复第 {es_best} 步的模"
            f"型。测试损失 {es_test_loss:.3f}（早停）对 {final_test_loss:.3f}（最终）；训练结束时"
            f"测试准确率 {final_test_acc:.1%}。"
        ),
        summary=(
            f"Validation loss is lowest at step {best_epoch}; with patience {params.patience} "
            "training "
            f"stops at step {stop_epoch if stop_epoch is not None else 'end'} and restores step "
            f"{es_best}. "
            f"Test loss {es_test_loss:.3f} (early-stopped) vs {final_test_loss:.3f} (final); test "
            "accuracy "
            f"{final_test_acc:.1%} at the end."
        ),
        metrics={
            "best_val_epoch": best_epoch,
            "stop_epoch": stop_epoch if stop_epoch is not None else params.epochs,
            "restored_epoch": es_best,
            "early_stopped_test_loss": es_test_loss,
            "final_test_loss": final_test_loss,
            "early_stopped_test_accuracy": acc_es,
            "final_test_accuracy": final_test_acc,
            "final_train_loss": train_curve[-1],
        },
        tables=[
            Table(
                title="Early-stopped vs final model",
                columns=[
                    "model",
                    "step",
                    "train loss",
                    "validation loss",
                    "test loss (clean labels)",
                ],
                rows=[
                    [
                        "early-stopped",
                        es_best,
                        train_curve[es_best - 1],
                        val_curve[es_best - 1],
                        es_test_loss,
                    ],
                    ["final", params.epochs, train_curve[-1], val_curve[-1], final_test_loss],
                ],
            )
        ],
        charts=[
            Chart(
                id="loss-curves",
                title="Loss during training",
                x_label="step",
                y_label="cross-entropy",
                log_y=True,
                series=[
                    Series(name="train", x=xs, y=[max(v, 1e-9) for v in train_curve]),
                    Series(name="validation", x=xs, y=[max(v, 1e-9) for v in val_curve]),
                    Series(name="test (clean)", x=xs, y=[max(v, 1e-9) for v in test_curve]),
                ],
            )
        ],
        claims=[
            Claim(
                id="val-loss-turns-up",
                text=CLAIMS["val-loss-turns-up"],
                passed=bool(c1),
                values={
                    "min_val_loss": min_val,
                    "final_val_loss": val_curve[-1],
                    "best_epoch": best_epoch,
                },
            ),
            Claim(
                id="early-stopped-model-generalizes-better",
                text=CLAIMS["early-stopped-model-generalizes-better"],
                passed=bool(c2),
                values={
                    "early_stopped_test_loss": es_test_loss,
                    "final_test_loss": final_test_loss,
                },
            ),
        ],
    )
