"""Perplexity and the language-model loss curve on text drawn from a known bigram source."""

# ruff: noqa: E501  (Chinese strings count double width; splitting them hurts reading)

from __future__ import annotations

import math

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Perplexity and the language-model loss curve"
DESCRIPTION = (
    "Draws text from a known bigram source, trains a tiny neural language model on it, and "
    "compares perplexities: uniform, unigram, the trained model and the source itself; the "
    "loss curve starts near log(vocabulary) when the initialization is small."
)
TITLE_ZH = "困惑度与语言模型的损失曲线"
DESCRIPTION_ZH = (
    "从一个已知的二元信源采样文本，在上面训练一个很小的神经语言模型，比较困惑度：均匀分布、一元模型、"
    "训练后的模型和信源本身；初始化较小时，损失曲线从 log（词表大小）附近开始。"
)
CLAIMS = {
    "ppl-is-exp-cross-entropy": (
        "Perplexity computed as the geometric mean of 1 / p(token) equals exp of the mean "
        "cross-entropy loss (relative difference below 1e-9)."
    ),
    "uniform-ppl-is-vocab": (
        "A model that puts probability 1 / V on every token has perplexity exactly V."
    ),
    "initial-loss-is-log-vocab": (
        "With the configured initialization, the untrained model's loss is within 5% of "
        "log(V), the loss of a uniform guess."
    ),
    "training-approaches-source": (
        "After training, held-out perplexity is below the unigram model's and within 15% of "
        "the source's own perplexity, and not meaningfully below it."
    ),
}
CLAIMS_ZH = {
    "ppl-is-exp-cross-entropy": "按 1 / p(token)的几何平均算出的困惑度等于平均交叉熵损失的 exp（相对差小于 1e-9）。",
    "uniform-ppl-is-vocab": "给每个 token 概率 1 / V 的模型，困惑度正好是 V。",
    "initial-loss-is-log-vocab": "在所选初始化下，未训练模型的损失与均匀猜测的损失 log(V)相差不到 5%。",
    "training-approaches-source": (
        "训练后，留出集困惑度低于一元模型，并与信源本身的困惑度相差不到 15%，也不会明显低于它。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "ppl-is-exp-cross-entropy": "always",
    "uniform-ppl-is-vocab": "always",
    "initial-loss-is-log-vocab": "init_scale <= 0.1",
    "training-approaches-source": "steps >= 150 with enough training tokens",
}
CLAIM_SHOWN_WHEN_ZH = {
    "ppl-is-exp-cross-entropy": "总成立",
    "uniform-ppl-is-vocab": "总成立",
    "initial-loss-is-log-vocab": "init_scale <= 0.1",
    "training-approaches-source": "steps >= 150 且训练 token 足够多",
}
TEXT_ZH = {
    "Training loss": "训练损失",
    "step": "步数",
    "cross-entropy (nats per token)": "交叉熵（每 token 的 nats）",
    "train loss": "训练损失",
    "held-out loss": "留出集损失",
    "log(V): uniform guess": "log(V)：均匀猜测",
    "source entropy": "信源熵",
    "Held-out perplexity": "留出集困惑度",
    "model": "模型",
    "cross-entropy (nats)": "交叉熵（nats）",
    "perplexity": "困惑度",
    "uniform": "均匀分布",
    "unigram counts": "一元计数",
    "trained model": "训练后的模型",
    "untrained model": "未训练的模型",
    "true source": "真实信源",
    "Vocabulary size V": "词表大小 V",
    "Standard deviation of the initial weights (large = confident random guesses)": (
        "初始权重的标准差（大 = 随机但自信的猜测）"
    ),
    "Training steps (full batch, Adam)": "训练步数（全批量，Adam）",
    "Training tokens drawn from the source": "从信源采样的训练 token 数",
}


class Params(BaseModel):
    vocab: int = Field(32, ge=4, le=128, description="Vocabulary size V")
    init_scale: float = Field(
        0.02,
        ge=0.001,
        le=10.0,
        description="Standard deviation of the initial weights (large = confident random guesses)",
    )
    steps: int = Field(150, ge=0, le=600, description="Training steps (full batch, Adam)")
    train_tokens: int = Field(
        12000, ge=1000, le=100000, description="Training tokens drawn from the source"
    )


MAX_CE = 700.0  # nats: math.exp overflows a float above about 709.78


def perplexity(ce: float) -> float:
    """exp(cross-entropy), capped at exp(MAX_CE): a wildly initialised model (init_scale
    10) starts with a loss in the thousands of nats."""
    return math.exp(min(ce, MAX_CE))


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    v = params.vocab
    # The source: a bigram chain with Dirichlet rows; its entropy rate bounds any model.
    source = torch.distributions.Dirichlet(torch.full((v, v), 0.3, dtype=torch.float64)).sample()

    def draw(n: int) -> torch.Tensor:
        # Per state, a pool of pre-drawn successors; the walk then only indexes lists.
        pools = torch.multinomial(source, n, replacement=True).tolist()
        used = [0] * v
        seq = [0]
        for _ in range(n - 1):
            s = seq[-1]
            seq.append(pools[s][used[s]])
            used[s] += 1
        return torch.tensor(seq)

    ctx.progress(0.1, "sampling text")
    train = draw(params.train_tokens)
    test = draw(5000)
    x_tr, y_tr = train[:-1].to(device), train[1:].to(device)
    x_te, y_te = test[:-1].to(device), test[1:].to(device)

    source_logp = source.clamp_min(1e-300).log().to(device)
    source_ce = float(-source_logp[x_te, y_te].mean())
    counts = torch.bincount(train, minlength=v).double() + 1.0
    unigram_ce = float(-(counts / counts.sum()).log().to(device)[y_te].mean())
    uniform_ce = float(-torch.full((v,), 1.0 / v, dtype=torch.float64).log()[0])

    d = 16
    emb = (torch.randn(v, d) * params.init_scale).to(device).requires_grad_()
    out = (torch.randn(d, v) * params.init_scale).to(device).requires_grad_()
    bias = torch.zeros(v, device=device, requires_grad=True)
    opt = torch.optim.Adam([emb, out, bias], lr=0.1)

    def loss_on(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(emb[x] @ out + bias, y)

    with torch.no_grad():
        initial = float(loss_on(x_tr, y_tr))
    ctx.progress(0.3, "training")
    train_curve, test_curve, steps_at = [initial], [], [0.0]
    with torch.no_grad():
        test_curve.append(float(loss_on(x_te, y_te)))
    for step in range(1, params.steps + 1):
        opt.zero_grad()
        loss = loss_on(x_tr, y_tr)
        loss.backward()
        opt.step()
        if step % 10 == 0 or step == params.steps:
            steps_at.append(float(step))
            train_curve.append(float(loss.detach()))
            with torch.no_grad():
                test_curve.append(float(loss_on(x_te, y_te)))

    with torch.no_grad():
        logits = (emb[x_te] @ out + bias).double()
        ce = float(F.cross_entropy(logits, y_te))
        log_p_true = torch.log_softmax(logits, dim=-1).gather(1, y_te[:, None]).squeeze(1)
        # Geometric mean of 1/p, in the log domain (p itself underflows to 0 at a large
        # init_scale).
        geo = perplexity(-float(log_p_true.mean()))
    model_ppl = perplexity(ce)
    rel = abs(geo - model_ppl) / model_ppl
    source_ppl = perplexity(source_ce)
    unigram_ppl = perplexity(unigram_ce)

    ctx.progress(0.9, "summarizing")
    claims = [
        Claim(
            id="ppl-is-exp-cross-entropy",
            text=CLAIMS["ppl-is-exp-cross-entropy"],
            passed=bool(rel < 1e-9),
            values={"geometric_mean": geo, "exp_ce": model_ppl, "relative_difference": rel},
        ),
        Claim(
            id="uniform-ppl-is-vocab",
            text=CLAIMS["uniform-ppl-is-vocab"],
            passed=bool(abs(math.exp(uniform_ce) - v) < 1e-9 * v),
            values={"uniform_ppl": math.exp(uniform_ce), "vocab": v},
        ),
        Claim(
            id="initial-loss-is-log-vocab",
            text=CLAIMS["initial-loss-is-log-vocab"],
            passed=bool(abs(initial - math.log(v)) < 0.05 * math.log(v)),
            values={"initial_loss": initial, "log_vocab": math.log(v)},
        ),
        Claim(
            id="training-approaches-source",
            text=CLAIMS["training-approaches-source"],
            passed=bool(
                model_ppl < unigram_ppl
                and model_ppl <= 1.15 * source_ppl
                and model_ppl >= 0.98 * source_ppl
            ),
            values={
                "model_ppl": model_ppl,
                "unigram_ppl": unigram_ppl,
                "source_ppl": source_ppl,
            },
        ),
    ]
    rows: list[list[float | int | str | bool]] = [
        ["uniform", uniform_ce, math.exp(uniform_ce)],
        ["unigram counts", unigram_ce, unigram_ppl],
        ["untrained model", test_curve[0], perplexity(test_curve[0])],
        ["trained model", ce, model_ppl],
        ["true source", source_ce, source_ppl],
    ]
    return DemoResult(
        summary=(
            f"V = {v}: initial loss {initial:.3f} vs log V = {math.log(v):.3f}; held-out "
            f"perplexity uniform {v}, unigram {unigram_ppl:.2f}, trained {model_ppl:.2f}, "
            f"source {source_ppl:.2f}."
        ),
        summary_zh=(
            f"V = {v}：初始损失 {initial:.3f}，log V = {math.log(v):.3f}；留出集困惑度：均匀 {v}，"
            f"一元 {unigram_ppl:.2f}，训练后 {model_ppl:.2f}，信源 {source_ppl:.2f}。"
        ),
        metrics={
            "initial_loss": initial,
            "log_vocab": math.log(v),
            "model_ppl": model_ppl,
            "unigram_ppl": unigram_ppl,
            "source_ppl": source_ppl,
            "final_train_loss": train_curve[-1],
        },
        tables=[
            Table(
                title="Held-out perplexity",
                columns=["model", "cross-entropy (nats)", "perplexity"],
                rows=rows,
            )
        ],
        charts=[
            Chart(
                id="loss",
                title="Training loss",
                x_label="step",
                y_label="cross-entropy (nats per token)",
                series=[
                    Series(name="train loss", x=steps_at, y=train_curve),
                    Series(name="held-out loss", x=steps_at, y=test_curve),
                    Series(
                        name="log(V): uniform guess", x=steps_at, y=[math.log(v)] * len(steps_at)
                    ),
                    Series(name="source entropy", x=steps_at, y=[source_ce] * len(steps_at)),
                ],
            )
        ],
        claims=claims,
    )
