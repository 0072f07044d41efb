"""Data augmentation on 1-D signals: label-preserving shifts against label-breaking flips."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Data augmentation: shifts help, label-breaking flips hurt"
DESCRIPTION = (
    "Classifies noisy 1-D signals by the shape of a short pattern. Training examples show the "
    "pattern only near the start; test examples put it anywhere. Trains the same MLP without "
    "augmentation, with random shifts, and with random left-right flips."
)
CLAIMS = {
    "shift-augmentation-improves-test": (
        "Random-shift augmentation raises test accuracy by at least 10 points over no "
        "augmentation: for this task a shift preserves the label, and the shifted copies teach "
        "the position invariance that the few training examples do not show."
    ),
    "label-breaking-augmentation-hurts": (
        "Flip augmentation drops test accuracy below 65% and below the un-augmented model: for "
        "this task and these patterns a flip turns an example of one class into the other class."
    ),
}
TITLE_ZH = "数据增强：平移有帮助，破坏标签的翻转有害"
DESCRIPTION_ZH = (
    "按短图案的形状对带噪一维信号分类。训练样本只在开头附近出现图案，测试样本可出现在任何位置。分"
    "别不做增强、随机平移和随机左右翻转训练同一个 MLP。"
)
CLAIMS_ZH = {
    "shift-augmentation-improves-test": (
        "随机平移增强使测试准确率比不增强至少高 10 个百分点：对这个任务平移保留标签，平移后的副本"
        "教会了少量训练样本没有展示的位置不变性。"
    ),
    "label-breaking-augmentation-hurts": (
        "翻转增强使测试准确率低于 65% 且低于不增强的模型：对这个任务和这些图案，翻转会把一类样本"
        "变成另一类。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "shift-augmentation-improves-test": (
        "task shape with train_shift <= 5 (training positions leave most test positions unseen)"
    ),
    "label-breaking-augmentation-hurts": (
        "pattern mirror-pair with task shape (a flip swaps the classes)"
    ),
}
CLAIM_SHOWN_WHEN_ZH = {
    "shift-augmentation-improves-test": (
        "task 为 shape 且 train_shift <= 5（大部分测试位置在训练中没见过）"
    ),
    "label-breaking-augmentation-hurts": (
        "pattern 为 mirror-pair 且 task 为 shape（翻转会交换类别）"
    ),
}
TEXT_ZH = {
    "Training patterns start at positions 0..train_shift (test: 0..26)": (
        "训练图案的起始位置为 0..train_shift（测试：0..26）"
    ),
    "Training signals": "训练信号数",
    "Std of the background noise": "背景噪声的标准差",
    "mirror-pair: class 1's pattern is class 0's reversed; unrelated: two different shapes": (
        "mirror-pair：类别 1 的图案是类别 0 的反转；unrelated：两个不同的形状"
    ),
    (
        "shape: label = which pattern; position: label = pattern in the right half (any training "
        "position)"
    ): ("shape：标签 = 哪个图案；position：标签 = 图案是否在右半边（训练位置任意）"),
    "Full-batch training steps per model": "每个模型的全批量训练步数",
    "Accuracy by augmentation": "各种增强下的准确率",
    "augmentation": "数据增强",
    "train accuracy (un-augmented inputs)": "训练准确率（未增强输入）",
    "test accuracy": "测试准确率",
    "Test accuracy during training": "训练中的测试准确率",
    "step": "步数",
}


class Params(BaseModel):
    train_shift: int = Field(
        2,
        ge=0,
        le=26,
        description="Training patterns start at positions 0..train_shift (test: 0..26)",
    )
    n_train: int = Field(100, ge=20, le=1000, description="Training signals")
    noise: float = Field(0.3, ge=0.0, le=1.0, description="Std of the background noise")
    pattern: Literal["mirror-pair", "unrelated"] = Field(
        "mirror-pair",
        description=(
            "mirror-pair: class 1's pattern is class 0's reversed; unrelated: two different shapes"
        ),
    )
    task: Literal["shape", "position"] = Field(
        "shape",
        description=(
            "shape: label = which pattern; position: label = pattern in the right half "
            "(any training position)"
        ),
    )
    steps: int = Field(300, ge=50, le=1000, description="Full-batch training steps per model")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    gen = torch.Generator().manual_seed(ctx.seed)
    length, plen = 32, 6
    p0 = torch.tensor([0.2, 0.6, 1.0, 1.6, 2.2, 0.0])
    p1 = (
        p0.flip(0)
        if params.pattern == "mirror-pair"
        else torch.tensor([1.5, 0.0, 1.5, 0.0, 1.5, 0.0])
    )

    def make(n: int, max_pos: int) -> tuple[torch.Tensor, torch.Tensor]:
        if params.task == "position":
            max_pos = length - plen
        y = torch.randint(0, 2, (n,), generator=gen)
        pos = torch.randint(0, max_pos + 1, (n,), generator=gen)
        if params.task == "position":
            y = (pos >= (length - plen) // 2 + 1).long()
        x = params.noise * torch.randn(n, length, generator=gen)
        for i in range(n):
            shape = p1 if (params.task == "shape" and y[i] == 1) else p0
            x[i, pos[i] : pos[i] + plen] += shape
        return x.to(device), y.to(device)

    x_tr, y_tr = make(params.n_train, params.train_shift)
    x_te, y_te = make(2000, length - plen)

    def augment(x: torch.Tensor, kind: str, g: torch.Generator) -> torch.Tensor:
        if kind == "shift":
            # Roll each signal by a random offset: the label does not depend on position.
            shifts = torch.randint(0, length, (x.shape[0],), generator=g).to(device)
            idx = (torch.arange(length, device=device).unsqueeze(0) - shifts.unsqueeze(1)) % length
            return torch.gather(x, 1, idx)
        if kind == "flip":
            flip = (torch.rand(x.shape[0], generator=g) < 0.5).to(device).unsqueeze(1)
            return torch.where(flip, x.flip(1), x)
        return x

    def train(kind: str) -> tuple[float, float, list[float]]:
        torch.manual_seed(ctx.seed)
        g = torch.Generator().manual_seed(ctx.seed + 7)
        model = nn.Sequential(nn.Linear(length, 64), nn.ReLU(), nn.Linear(64, 2)).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        curve = []
        for step in range(params.steps):
            opt.zero_grad()
            nn.functional.cross_entropy(model(augment(x_tr, kind, g)), y_tr).backward()
            opt.step()
            if (step + 1) % 25 == 0:
                with torch.no_grad():
                    curve.append(float((model(x_te).argmax(1) == y_te).float().mean().item()))
        with torch.no_grad():
            train_acc = float((model(x_tr).argmax(1) == y_tr).float().mean().item())
            test_acc = float((model(x_te).argmax(1) == y_te).float().mean().item())
        return train_acc, test_acc, curve

    results = {}
    for i, kind in enumerate(["none", "shift", "flip"]):
        results[kind] = train(kind)
        ctx.progress((i + 1) / 3, f"trained with augmentation={kind}")

    none_acc, shift_acc, flip_acc = results["none"][1], results["shift"][1], results["flip"][1]
    c1 = shift_acc >= none_acc + 0.10
    c2 = flip_acc < 0.65 and flip_acc < none_acc

    xs = [float(25 * (i + 1)) for i in range(len(results["none"][2]))]
    return DemoResult(
        summary_zh=(
            f"图案出现在任意位置时的测试准确率：无增强 {none_acc:.1%}，随机平移 {shift_acc:.1%}，"
            f"随机翻转 {flip_acc:.1%}（任务 {params.task}，训练位置 0.."
            f"{params.train_shift if params.task == 'shape' else length - plen}）。"
        ),
        summary=(
            f"Test accuracy with the pattern anywhere: no augmentation {none_acc:.1%}, random "
            "shifts "
            f"{shift_acc:.1%}, random flips {flip_acc:.1%} (task {params.task}, training positions "
            f"0..{params.train_shift if params.task == 'shape' else length - plen})."
        ),
        metrics={
            "test_acc_none": none_acc,
            "test_acc_shift": shift_acc,
            "test_acc_flip": flip_acc,
            "train_acc_none": results["none"][0],
        },
        tables=[
            Table(
                title="Accuracy by augmentation",
                columns=["augmentation", "train accuracy (un-augmented inputs)", "test accuracy"],
                rows=[[k, results[k][0], results[k][1]] for k in ("none", "shift", "flip")],
            )
        ],
        charts=[
            Chart(
                id="test-accuracy",
                title="Test accuracy during training",
                x_label="step",
                y_label="test accuracy",
                series=[Series(name=k, x=xs, y=results[k][2]) for k in ("none", "shift", "flip")],
            )
        ],
        claims=[
            Claim(
                id="shift-augmentation-improves-test",
                text=CLAIMS["shift-augmentation-improves-test"],
                passed=bool(c1),
                values={"test_acc_none": none_acc, "test_acc_shift": shift_acc},
            ),
            Claim(
                id="label-breaking-augmentation-hurts",
                text=CLAIMS["label-breaking-augmentation-hurts"],
                passed=bool(c2),
                values={"test_acc_flip": flip_acc, "test_acc_none": none_acc},
            ),
        ],
    )
