"""Temperature scaling: one scalar fitted on validation data lowers ECE, accuracy unchanged."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Calibration: ECE and temperature scaling"
TITLE_ZH = "校准：ECE 与温度缩放"
DESCRIPTION = (
    "Draws labels from known class probabilities, gives the model those logits multiplied by an "
    "overconfidence factor, fits one temperature on a validation split by minimising NLL, and "
    "compares expected calibration error (15 bins) and accuracy on a test split."
)
DESCRIPTION_ZH = (
    "按已知的类别概率采样标签，让模型输出这些 logits 乘以一个过度自信因子，在验证集上通过最小化 NL"
    "L "
    "拟合一个温度，在测试集上比较期望校准误差（15 个分箱）和准确率。"
)
CLAIMS = {
    "temperature-lowers-ece": "Temperature scaling at least halves the test ECE.",
    "accuracy-unchanged": (
        "Temperature scaling changes no prediction: test accuracy is identical, since dividing "
        "logits by T > 0 keeps the argmax."
    ),
    "fitted-temperature-recovers-overconfidence": (
        "The fitted temperature is within 15% of the overconfidence factor."
    ),
}
CLAIMS_ZH = {
    "temperature-lowers-ece": "温度缩放至少让测试集 ECE 减半。",
    "accuracy-unchanged": (
        "温度缩放不改变任何预测：测试准确率完全相同，因为 logits 除以 T > 0 不改变 argmax。"
    ),
    "fitted-temperature-recovers-overconfidence": "拟合出的温度与过度自信因子相差不到 15%。",
}
CLAIM_SHOWN_WHEN = {
    "temperature-lowers-ece": "overconfidence >= 1.5 (a calibrated model has little ECE to remove)",
    "accuracy-unchanged": "any setting",
    "fitted-temperature-recovers-overconfidence": "any setting",
}
CLAIM_SHOWN_WHEN_ZH = {
    "temperature-lowers-ece": "过度自信因子 >= 1.5（校准良好的模型没有多少 ECE 可降）",
    "accuracy-unchanged": "任意设置",
    "fitted-temperature-recovers-overconfidence": "任意设置",
}
TEXT_ZH = {
    "Reliability diagram": "可靠性图",
    "confidence": "置信度",
    "accuracy": "准确率",
    "perfect calibration": "完美校准",
    "before": "缩放前",
    "after temperature scaling": "温度缩放后",
    "Calibration on the test split": "测试集上的校准",
    "model": "模型",
    "ECE": "ECE",
    "NLL": "NLL",
    "Factor multiplying the true logits (overconfidence)": "乘在真实 logits 上的因子（过度自信）",
    "Number of classes": "类别数",
}


class Params(BaseModel):
    overconfidence: float = Field(
        3.0, ge=0.5, le=10.0, description="Factor multiplying the true logits (overconfidence)"
    )
    classes: int = Field(5, ge=2, le=20, description="Number of classes")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    n, k, bins = 4000, params.classes, 15
    true_logits = torch.randn(2 * n, k) * 1.5
    labels = torch.multinomial(torch.softmax(true_logits, 1), 1).squeeze(1)
    logits = (true_logits * params.overconfidence).to(ctx.device)
    labels = labels.to(ctx.device)
    val, test = slice(0, n), slice(n, 2 * n)

    # Fit log T on validation by minimising NLL (LBFGS on one scalar).
    log_t = torch.zeros(1, device=ctx.device, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.5, max_iter=100)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(logits[val] / log_t.exp(), labels[val])
        loss.backward()
        return loss

    opt.step(closure)
    temperature = float(log_t.detach().exp())

    def ece(z: torch.Tensor) -> tuple[float, list[float], list[float]]:
        probs = torch.softmax(z, 1)
        conf, pred = probs.max(1)
        correct = (pred == labels[test]).float()
        edges = torch.linspace(0, 1, bins + 1)
        total, confs, accs = 0.0, [], []
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            inside = (conf > lo) & (conf <= hi)
            if inside.any():
                gap = abs(float(conf[inside].mean()) - float(correct[inside].mean()))
                total += float(inside.float().mean()) * gap
                confs.append(float(conf[inside].mean()))
                accs.append(float(correct[inside].mean()))
        return total, confs, accs

    before, conf_b, acc_b = ece(logits[test])
    after, conf_a, acc_a = ece(logits[test] / temperature)
    pred_b = logits[test].argmax(1)
    pred_a = (logits[test] / temperature).argmax(1)
    acc_before = float((pred_b == labels[test]).float().mean())
    acc_after = float((pred_a == labels[test]).float().mean())
    nll_b = float(nn.functional.cross_entropy(logits[test], labels[test]))
    nll_a = float(nn.functional.cross_entropy(logits[test] / temperature, labels[test]))

    claims = [
        Claim(
            id="temperature-lowers-ece",
            text=CLAIMS["temperature-lowers-ece"],
            passed=after <= 0.5 * before,
            values={"ece_before": before, "ece_after": after},
        ),
        Claim(
            id="accuracy-unchanged",
            text=CLAIMS["accuracy-unchanged"],
            passed=bool(torch.equal(pred_a, pred_b)),
            values={"accuracy_before": acc_before, "accuracy_after": acc_after},
        ),
        Claim(
            id="fitted-temperature-recovers-overconfidence",
            text=CLAIMS["fitted-temperature-recovers-overconfidence"],
            passed=abs(temperature / params.overconfidence - 1) < 0.15,
            values={"temperature": temperature, "overconfidence": params.overconfidence},
        ),
    ]
    chart = Chart(
        id="reliability",
        title="Reliability diagram",
        x_label="confidence",
        y_label="accuracy",
        series=[
            Series(name="perfect calibration", x=[0.0, 1.0], y=[0.0, 1.0]),
            Series(name="before", x=conf_b, y=acc_b),
            Series(name="after temperature scaling", x=conf_a, y=acc_a),
        ],
    )
    table = Table(
        title="Calibration on the test split",
        columns=["model", "ECE", "NLL", "accuracy"],
        rows=[
            ["before", before, nll_b, acc_before],
            ["after temperature scaling", after, nll_a, acc_after],
        ],
    )
    return DemoResult(
        summary=(
            f"Fitted T = {temperature:.2f} (overconfidence {params.overconfidence:g}): ECE "
            f"{before:.3f} -> {after:.3f}, accuracy {acc_before:.3f} -> {acc_after:.3f}."
        ),
        summary_zh=(
            f"拟合出 T = {temperature:.2f}（过度自信因子 {params.overconfidence:g}）：ECE "
            f"{before:.3f} -> {after:.3f}，准确率 {acc_before:.3f} -> {acc_after:.3f}。"
        ),
        metrics={
            "temperature": temperature,
            "ece_before": before,
            "ece_after": after,
            "nll_before": nll_b,
            "nll_after": nll_a,
            "accuracy": acc_after,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
