"""BatchNorm by hand: batch statistics in training, running averages in evaluation."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "BatchNorm: the computation, and train vs eval mode"
DESCRIPTION = (
    "Recomputes BatchNorm1d by hand and compares it with PyTorch, feeds batches from a shifted "
    "distribution "
    "to watch the running statistics converge, and checks whether a sample's output depends on "
    "its batch."
)
CLAIMS = {
    "manual-matches-pytorch": (
        "The hand-written BatchNorm (normalize with the configured variance estimator, then gamma "
        "* x_hat + beta; "
        "running stats updated as (1 - momentum) * running + momentum * batch stat, unbiased "
        "variance) "
        "matches nn.BatchNorm1d in training mode to within 1e-4."
    ),
    "running-stats-converge": (
        "After the configured number of training batches, every feature's running mean is within "
        "0.25 of the "
        "data's true mean (3.0) and its running variance within 25% of the true variance (4.0)."
    ),
    "output-independent-of-batch": (
        "In the configured mode, a sample's output is the same (within 1e-5) whichever other "
        "samples share its batch."
    ),
}
TITLE_ZH = "BatchNorm：计算过程，以及训练与评估模式"
DESCRIPTION_ZH = (
    "手工重算 BatchNorm1d 并与 PyTorch 比较，输入来自偏移分布的批次观察运行统计量收敛，并检查一个"
    "样本的输出是否依赖于它所在的批次。"
)
CLAIMS_ZH = {
    "manual-matches-pytorch": (
        "手写的 BatchNorm（用所设的方差估计归一化，再做 gamma * x_hat + beta；运行统计量按 (1 - m"
        "omentum) * running + momentum * 批统计量更新，方差无偏）在训练模式下与 nn.BatchNorm1d 相"
        "差不超过 1e-4。"
    ),
    "running-stats-converge": (
        "经过所设数量的训练批次后，每个特征的运行均值与数据真实均值 (3.0) 相差不超过 0.25，运行方"
        "差与真实方差 (4.0) 相差不超过 25%。"
    ),
    "output-independent-of-batch": (
        "在所设模式下，一个样本的输出与同批的其他样本无关（相差不超过 1e-5）。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "manual-matches-pytorch": (
        "variance biased (the default: PyTorch normalizes with the biased batch variance)"
    ),
    "running-stats-converge": "steps * momentum >= 5, e.g. the defaults 100 and 0.1",
    "output-independent-of-batch": "mode eval",
}
CLAIM_SHOWN_WHEN_ZH = {
    "manual-matches-pytorch": "variance 为 biased（默认：PyTorch 用有偏的批方差归一化）",
    "running-stats-converge": "steps * momentum >= 5，例如默认的 100 和 0.1",
    "output-independent-of-batch": "mode 为 eval",
}
TEXT_ZH = {
    "Number of features (BatchNorm1d num_features)": "特征数（BatchNorm1d 的 num_features）",
    "Samples per training batch": "每个训练批次的样本数",
    "Running-statistics momentum (PyTorch convention)": "滑动统计量的动量（PyTorch 约定）",
    "Training batches fed before evaluating": "评估前喂入的训练批次数",
    "Variance estimator the hand-written version normalizes with": "手写版本归一化所用的方差估计",
    "Mode used for the batch-independence check": "批次无关性检查所用的模式",
    "Checks": "检查",
    "quantity": "量",
    "value": "值",
    "max |manual - PyTorch| output (train mode)": "max |手写 - PyTorch| 输出（训练模式）",
    "max |manual - PyTorch| running stats": "max |手写 - PyTorch| 滑动统计量",
    "max |running_mean - 3.0|": "max |running_mean - 3.0|",
    "max relative error of running_var vs 4.0": "running_var 相对 4.0 的最大相对误差",
    "eval output vs gamma*(x-running_mean)/sqrt(running_var+eps)+beta": (
        "eval 输出与 gamma*(x-running_mean)/sqrt(running_var+eps)+beta 之差"
    ),
    "Running statistics (averaged over features) vs training batches": (
        "滑动统计量（对特征取平均）随训练批次的变化"
    ),
    "training batch": "训练批次",
    "feature": "特征",
    "output": "输出",
    "running_mean": "running_mean",
    "running_var": "running_var",
    "true mean": "真实均值",
    "true variance": "真实方差",
    "companions A": "同批样本 A",
    "companions B": "同批样本 B",
}


class Params(BaseModel):
    features: int = Field(
        8, ge=1, le=64, description="Number of features (BatchNorm1d num_features)"
    )
    batch_size: int = Field(32, ge=2, le=256, description="Samples per training batch")
    momentum: float = Field(
        0.1, ge=0.001, le=1.0, description="Running-statistics momentum (PyTorch convention)"
    )
    steps: int = Field(100, ge=1, le=500, description="Training batches fed before evaluating")
    variance: Literal["biased", "unbiased"] = Field(
        "biased", description="Variance estimator the hand-written version normalizes with"
    )
    mode: Literal["train", "eval"] = Field(
        "eval", description="Mode used for the batch-independence check"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    true_mean, true_std, eps = 3.0, 2.0, 1e-5
    f = params.features

    def batch(n: int) -> torch.Tensor:
        return (true_mean + true_std * torch.randn(n, f)).to(device)

    bn = nn.BatchNorm1d(f, eps=eps, momentum=params.momentum).to(device)
    with torch.no_grad():
        bn.weight.copy_(1.0 + 0.5 * torch.randn(f))
        bn.bias.copy_(0.5 * torch.randn(f))
    gamma, beta = bn.weight.detach().clone(), bn.bias.detach().clone()
    run_mean = torch.zeros(f, device=device)
    run_var = torch.ones(f, device=device)

    max_out_diff, max_stat_diff = 0.0, 0.0
    mean_track: list[float] = []
    var_track: list[float] = []
    bn.train()
    for _ in range(params.steps):
        xb = batch(params.batch_size)
        out = bn(xb).detach()
        mu = xb.mean(dim=0)
        var_norm = xb.var(dim=0, unbiased=params.variance == "unbiased")
        manual = gamma * (xb - mu) / torch.sqrt(var_norm + eps) + beta
        run_mean = (1 - params.momentum) * run_mean + params.momentum * mu
        run_var = (1 - params.momentum) * run_var + params.momentum * xb.var(dim=0, unbiased=True)
        max_out_diff = max(max_out_diff, float((out - manual).abs().max().item()))
        max_stat_diff = max(
            max_stat_diff,
            float((bn.running_mean - run_mean).abs().max().item()),
            float((bn.running_var - run_var).abs().max().item()),
        )
        mean_track.append(float(bn.running_mean.mean().item()))
        var_track.append(float(bn.running_var.mean().item()))
    ctx.progress(0.6, "checking eval mode")

    mean_err = float((bn.running_mean - true_mean).abs().max().item())
    var_rel_err = float(((bn.running_var - true_std**2).abs() / true_std**2).max().item())

    # Same sample, two different companions.
    probe = batch(1)
    companions_a = batch(params.batch_size - 1)
    companions_b = batch(params.batch_size - 1) * 0.5 - 2.0
    bn.train(params.mode == "train")
    momentum_saved = bn.momentum
    bn.momentum = 0.0  # the check must not move the running statistics
    with torch.no_grad():
        out_a = bn(torch.cat([probe, companions_a]))[0]
        out_b = bn(torch.cat([probe, companions_b]))[0]
    bn.momentum = momentum_saved
    batch_dependence = float((out_a - out_b).abs().max().item())
    bn.eval()
    with torch.no_grad():
        eval_out = bn(probe)[0]
        eval_manual = gamma * (probe[0] - bn.running_mean) / torch.sqrt(bn.running_var + eps) + beta
    eval_formula_diff = float((eval_out - eval_manual).abs().max().item())

    xs = [float(i + 1) for i in range(params.steps)]
    charts = [
        Chart(
            id="running-stats",
            title="Running statistics (averaged over features) vs training batches",
            x_label="training batch",
            y_label="value",
            series=[
                Series(name="running_mean", x=xs, y=mean_track),
                Series(name="running_var", x=xs, y=var_track),
                Series(name="true mean", x=xs, y=[true_mean] * len(xs)),
                Series(name="true variance", x=xs, y=[true_std**2] * len(xs)),
            ],
        ),
        Chart(
            id="probe-output",
            title=f"One sample's output ({params.mode} mode) with two different batch companions",
            kind="bar",
            x_label="feature",
            y_label="output",
            categories=[f"f{i}" for i in range(min(f, 16))],
            series=[
                Series(
                    name="companions A",
                    x=[float(i) for i in range(min(f, 16))],
                    y=[float(v) for v in out_a[:16].tolist()],
                ),
                Series(
                    name="companions B",
                    x=[float(i) for i in range(min(f, 16))],
                    y=[float(v) for v in out_b[:16].tolist()],
                ),
            ],
        ),
    ]
    table = Table(
        title="Checks",
        columns=["quantity", "value"],
        rows=[
            ["max |manual - PyTorch| output (train mode)", max_out_diff],
            ["max |manual - PyTorch| running stats", max_stat_diff],
            ["max |running_mean - 3.0|", mean_err],
            ["max relative error of running_var vs 4.0", var_rel_err],
            [f"batch dependence of one sample ({params.mode})", batch_dependence],
            ["eval output vs gamma*(x-running_mean)/sqrt(running_var+eps)+beta", eval_formula_diff],
        ],
    )
    claims = [
        Claim(
            id="manual-matches-pytorch",
            text=CLAIMS["manual-matches-pytorch"],
            passed=bool(max_out_diff < 1e-4 and max_stat_diff < 1e-4),
            values={
                "max_output_diff": max_out_diff,
                "max_running_stat_diff": max_stat_diff,
                "variance": params.variance,
            },
        ),
        Claim(
            id="running-stats-converge",
            text=CLAIMS["running-stats-converge"],
            passed=bool(mean_err < 0.25 and var_rel_err < 0.25),
            values={
                "max_mean_error": mean_err,
                "max_var_relative_error": var_rel_err,
                "steps": params.steps,
            },
        ),
        Claim(
            id="output-independent-of-batch",
            text=CLAIMS["output-independent-of-batch"],
            passed=bool(batch_dependence < 1e-5),
            values={"max_output_change": batch_dependence, "mode": params.mode},
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"手写 BatchNorm（{params.variance} 方差）与 PyTorch 相差 {max_out_diff:.1e}；"
            f"{params.steps} 个批次后 running_mean 偏差 {mean_err:.3f}；{params.mode} 模式下换掉同"
            f"批样本使一个样本的输出变化 {batch_dependence:.2e}。"
        ),
        summary=(
            f"Manual BatchNorm ({params.variance} variance) differs from PyTorch by "
            f"{max_out_diff:.1e}; after "
            f"{params.steps} batches running_mean is off by {mean_err:.3f}; in {params.mode} mode "
            "one sample's "
            f"output changes by {batch_dependence:.2e} when its batch companions change."
        ),
        metrics={
            "max_output_diff": max_out_diff,
            "running_mean_error": mean_err,
            "running_var_relative_error": var_rel_err,
            "batch_dependence": batch_dependence,
            "eval_formula_diff": eval_formula_diff,
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
