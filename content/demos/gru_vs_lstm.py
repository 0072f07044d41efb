"""GRU vs LSTM: parameter count, state, and a long-memory task trained side by side."""

from __future__ import annotations

import math

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "GRU vs LSTM"
DESCRIPTION = (
    "Counts the parameters of a GRU and an LSTM layer, then trains each with Adam to recall the "
    "class "
    "shown at the first step of a noisy sequence."
)
CLAIMS = {
    "gru-three-quarters-params": (
        "At the configured sizes the GRU layer has exactly 3/4 of the LSTM layer's parameters "
        "(3 weight blocks per layer instead of 4)."
    ),
    "both-gated-cells-remember": (
        "On the recall task both the GRU and the LSTM reach at least 90% test accuracy within the "
        "configured "
        "training steps."
    ),
}
TITLE_ZH = "GRU 与 LSTM"
DESCRIPTION_ZH = (
    "数一数 GRU 层和 LSTM 层的参数，然后用 Adam 分别训练它们，记住带噪序列第一步给出的类别。"
)
CLAIMS_ZH = {
    "gru-three-quarters-params": (
        "在所设大小下，GRU 层的参数恰好是 LSTM 层的 3/4（每层 3 个权重块而不是 4 个）。"
    ),
    "both-gated-cells-remember": (
        "在记忆任务上，GRU 和 LSTM 都在所设训练步数内达到至少 90% 的测试准确率。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "gru-three-quarters-params": "gru_hidden equal to lstm_hidden (the defaults)",
    "both-gated-cells-remember": "steps >= 150 and lr around 0.01 (the defaults)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "gru-three-quarters-params": "gru_hidden 等于 lstm_hidden（默认设置）",
    "both-gated-cells-remember": "steps >= 150 且 lr 约为 0.01（默认设置）",
}
TEXT_ZH = {
    "GRU hidden units": "GRU 隐藏单元数",
    "LSTM hidden units": "LSTM 隐藏单元数",
    "Sequence length: the cue is at step 1, the answer is read after the last step": (
        "序列长度：提示在第 1 步，答案在最后一步之后读出"
    ),
    "Adam training steps per model": "每个模型的 Adam 训练步数",
    "Adam learning rate": "Adam 学习率",
    "step": "步数",
    "cross-entropy": "交叉熵",
    "Test accuracy": "测试准确率",
    "accuracy": "准确率",
    "Models": "模型",
    "model": "模型",
    "hidden": "隐藏单元",
    "parameters (recurrent layer)": "参数量（循环层）",
    "test accuracy": "测试准确率",
    "GRU": "GRU",
    "LSTM": "LSTM",
}


class Params(BaseModel):
    gru_hidden: int = Field(32, ge=4, le=64, description="GRU hidden units")
    lstm_hidden: int = Field(32, ge=4, le=64, description="LSTM hidden units")
    seq_len: int = Field(
        10,
        ge=2,
        le=30,
        description="Sequence length: the cue is at step 1, the answer is read after the last step",
    )
    steps: int = Field(200, ge=10, le=300, description="Adam training steps per model")
    lr: float = Field(0.01, ge=1e-4, le=0.1, description="Adam learning rate")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    device = torch.device(ctx.device)
    n_classes, d_in, batch = 4, 8, 64
    gen = torch.Generator().manual_seed(ctx.seed + 1)

    def sample(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The class is one-hot at step 1; every step has Gaussian noise in the other channels."""
        y = torch.randint(0, n_classes, (n,), generator=gen)
        x = torch.zeros(n, params.seq_len, d_in)
        x[:, :, n_classes:] = torch.randn(n, params.seq_len, d_in - n_classes, generator=gen)
        x[torch.arange(n), 0, y] = 1.0
        return x.to(device), y.to(device)

    x_test, y_test = sample(512)

    def train(kind: str, hidden: int) -> tuple[list[float], float, int]:
        torch.manual_seed(ctx.seed)
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[kind](d_in, hidden, batch_first=True).to(device)
        if kind == "lstm":
            # Forget-gate bias 1 (PyTorch gate order i, f, g, o), the usual practice for LSTMs.
            with torch.no_grad():
                rnn.bias_ih_l0[hidden : 2 * hidden] = 1.0
                rnn.bias_hh_l0[hidden : 2 * hidden] = 0.0
        head = nn.Linear(hidden, n_classes).to(device)
        ps = list(rnn.parameters()) + list(head.parameters())
        # Adam written out (torch.optim costs a second of import time in a fresh worker).
        m = [torch.zeros_like(p) for p in ps]
        v = [torch.zeros_like(p) for p in ps]
        b1, b2, eps = 0.9, 0.999, 1e-8
        losses: list[float] = []
        for step in range(1, params.steps + 1):
            x, y = sample(batch)
            out, _ = rnn(x)
            loss = nn.functional.cross_entropy(head(out[:, -1]), y)
            for p in ps:
                p.grad = None
            loss.backward()
            losses.append(float(loss.item()))
            with torch.no_grad():
                for p, mi, vi in zip(ps, m, v, strict=True):
                    mi.mul_(b1).add_(p.grad, alpha=1 - b1)
                    vi.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                    m_hat = mi / (1 - b1**step)
                    v_hat = vi / (1 - b2**step)
                    p -= params.lr * m_hat / (v_hat.sqrt() + eps)
        with torch.no_grad():
            out, _ = rnn(x_test)
            acc = float((head(out[:, -1]).argmax(dim=1) == y_test).float().mean().item())
        n_params = sum(p.numel() for p in rnn.parameters())
        return losses, acc, n_params

    results = {}
    for i, (kind, hidden) in enumerate([("gru", params.gru_hidden), ("lstm", params.lstm_hidden)]):
        results[kind] = train(kind, hidden)
        ctx.progress((i + 1) / 2, f"{kind} trained")

    gru_params, lstm_params = results["gru"][2], results["lstm"][2]
    param_ratio = gru_params / lstm_params
    acc = {k: r[1] for k, r in results.items()}

    def smooth(values: list[float], k: int = 10) -> list[float]:
        return [
            sum(values[max(0, i - k + 1) : i + 1]) / len(values[max(0, i - k + 1) : i + 1])
            for i in range(len(values))
        ]

    chart = Chart(
        id="loss",
        title=f"Training loss, recall after {params.seq_len} steps (10-step moving average)",
        x_label="step",
        y_label="cross-entropy",
        series=[
            Series(name=k.upper(), x=[float(i + 1) for i in range(len(r[0]))], y=smooth(r[0]))
            for k, r in results.items()
        ],
    )
    acc_chart = Chart(
        id="accuracy",
        title="Test accuracy",
        kind="bar",
        y_label="accuracy",
        categories=["GRU", "LSTM"],
        series=[Series(name="accuracy", x=[0.0, 1.0], y=[acc["gru"], acc["lstm"]])],
    )
    table = Table(
        title="Models",
        columns=["model", "hidden", "parameters (recurrent layer)", "test accuracy"],
        rows=[
            ["GRU", params.gru_hidden, gru_params, acc["gru"]],
            ["LSTM", params.lstm_hidden, lstm_params, acc["lstm"]],
        ],
    )
    claims = [
        Claim(
            id="gru-three-quarters-params",
            text=CLAIMS["gru-three-quarters-params"],
            passed=bool(math.isclose(param_ratio, 0.75, rel_tol=1e-12)),
            values={"gru_params": gru_params, "lstm_params": lstm_params, "ratio": param_ratio},
        ),
        Claim(
            id="both-gated-cells-remember",
            text=CLAIMS["both-gated-cells-remember"],
            passed=bool(acc["gru"] >= 0.9 and acc["lstm"] >= 0.9),
            values={"gru_accuracy": acc["gru"], "lstm_accuracy": acc["lstm"]},
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"GRU {gru_params} 个参数，LSTM {lstm_params} 个（比值 {param_ratio:.3f}）；"
            f"{params.steps} 步后的测试准确率：GRU {acc['gru']:.2f}，LSTM {acc['lstm']:.2f}。"
        ),
        summary=(
            f"GRU {gru_params} vs LSTM {lstm_params} parameters (ratio {param_ratio:.3f}); test "
            "accuracy after "
            f"{params.steps} steps: GRU {acc['gru']:.2f}, LSTM {acc['lstm']:.2f}."
        ),
        metrics={
            "gru_params": gru_params,
            "lstm_params": lstm_params,
            "gru_accuracy": acc["gru"],
            "lstm_accuracy": acc["lstm"],
        },
        tables=[table],
        charts=[chart, acc_chart],
        claims=claims,
    )
