"""Tying the input embedding to the output projection: parameters saved, gradients shared."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Embedding weight tying"
TITLE_ZH = "embedding 权重共享"
DESCRIPTION = (
    "Builds a tiny language model whose output layer is (or is not) the transposed input "
    "embedding, counts its parameters, and runs one backward pass on a batch that uses only "
    "a few tokens as input, to see which embedding rows receive a gradient."
)
DESCRIPTION_ZH = (
    "构造一个极小的语言模型，输出层是否与输入 embedding（转置）共享权重；统计参数量，"
    "并在只用少数 token 作为输入的 batch 上做一次反向传播，看哪些 embedding 行得到梯度。"
)
CLAIMS = {
    "tying-saves-v-times-d": (
        "With tying on, the model has exactly V x d fewer parameters than the untied model."
    ),
    "absent-tokens-get-gradient": (
        "With the chosen setting, input-embedding rows of tokens that never appear in the input "
        "still receive a gradient (through the output softmax)."
    ),
}
CLAIMS_ZH = {
    "tying-saves-v-times-d": "开启共享时，模型比不共享时恰好少 V x d 个参数。",
    "absent-tokens-get-gradient": (
        "在所选设置下，从未作为输入出现的 token，其输入 embedding 行也能得到梯度"
        "（经由输出 softmax）。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "tying-saves-v-times-d": "tie on",
    "absent-tokens-get-gradient": "tie on",
}
CLAIM_SHOWN_WHEN_ZH = {
    "tying-saves-v-times-d": "开启 tie 时",
    "absent-tokens-get-gradient": "开启 tie 时",
}
TEXT_ZH = {
    "Parameters by component": "各部分的参数量",
    "component": "组件",
    "parameters": "参数量",
    "untied": "不共享",
    "chosen": "所选设置",
    "Embedding-row gradient norm, tokens sorted by id": "按 token id 排列的 embedding 行梯度范数",
    "token id": "token id",
    "||grad row||": "||行梯度||",
    "Parameter count": "参数量",
    "model": "模型",
    "Tie the output projection to the input embedding": "输出投影与输入 embedding 共享权重",
    "Vocabulary size V": "词表大小 V",
    "Model width d": "模型宽度 d",
    "Distinct tokens used as inputs in the batch": "batch 中作为输入出现的不同 token 数",
}


class Params(BaseModel):
    tie: bool = Field(True, description="Tie the output projection to the input embedding")
    vocab: int = Field(1000, ge=50, le=5000, description="Vocabulary size V")
    d: int = Field(64, ge=8, le=256, description="Model width d")
    used_tokens: int = Field(
        20, ge=2, le=50, description="Distinct tokens used as inputs in the batch"
    )


def _model(vocab: int, d: int, tie: bool):  # type: ignore[no-untyped-def]
    from torch import nn

    class TinyLM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(vocab, d)
            self.body = nn.Sequential(nn.Linear(d, d), nn.Tanh())
            self.head = nn.Linear(d, vocab, bias=False)
            if tie:
                self.head.weight = self.embed.weight  # one tensor, two uses

        def forward(self, tokens):  # type: ignore[no-untyped-def]
            return self.head(self.body(self.embed(tokens)))

    return TinyLM()


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch.nn import functional as F

    torch.manual_seed(ctx.seed)
    v, d = params.vocab, params.d
    untied = _model(v, d, tie=False)
    chosen = _model(v, d, tie=params.tie)
    n_untied = sum(p.numel() for p in untied.parameters())
    n_chosen = sum(p.numel() for p in chosen.parameters())  # parameters() de-duplicates

    # Inputs use only `used_tokens` ids; targets range over the whole vocabulary.
    used = torch.randperm(v)[: params.used_tokens]
    inputs = used[torch.randint(0, params.used_tokens, (32, 16))]
    targets = torch.randint(0, v, (32, 16))
    device = torch.device(ctx.device)
    chosen = chosen.to(device)
    logits = chosen(inputs.to(device))
    loss = F.cross_entropy(logits.reshape(-1, v), targets.reshape(-1).to(device))
    loss.backward()
    grad_rows = chosen.embed.weight.grad.norm(dim=1).cpu()
    absent = torch.ones(v, dtype=torch.bool)
    absent[used] = False
    absent_grad = float(grad_rows[absent].max().item())
    ctx.progress(0.8, "summarizing")

    show = min(v, 200)
    chart = Chart(
        id="grad-rows",
        title="Embedding-row gradient norm, tokens sorted by id",
        x_label="token id",
        y_label="||grad row||",
        log_y=True,
        series=[
            Series(
                name="chosen",
                x=[float(i) for i in range(show)],
                y=[max(float(g), 1e-12) for g in grad_rows[:show]],
            )
        ],
    )
    count_chart = Chart(
        id="params",
        title="Parameters by component",
        kind="bar",
        x_label="model",
        y_label="parameters",
        categories=["untied", "chosen"],
        series=[Series(name="parameters", x=[0.0, 1.0], y=[float(n_untied), float(n_chosen)])],
    )
    table = Table(
        title="Parameter count",
        columns=["model", "parameters"],
        rows=[["untied", n_untied], [f"tie={params.tie}", n_chosen], ["V x d", v * d]],
    )
    claims = [
        Claim(
            id="tying-saves-v-times-d",
            text=CLAIMS["tying-saves-v-times-d"],
            passed=bool(n_untied - n_chosen == v * d),
            values={"untied": n_untied, "chosen": n_chosen, "v_times_d": v * d},
        ),
        Claim(
            id="absent-tokens-get-gradient",
            text=CLAIMS["absent-tokens-get-gradient"],
            passed=bool(absent_grad > 0.0),
            values={"max_grad_norm_absent_rows": absent_grad},
        ),
    ]
    return DemoResult(
        summary=(
            f"tie={params.tie}: {n_chosen} parameters against {n_untied} untied "
            f"(V x d = {v * d}); embedding rows of tokens absent from the input get gradient "
            f"norm up to {absent_grad:.2e}."
        ),
        summary_zh=(
            f"tie={params.tie}：参数量 {n_chosen}，不共享时 {n_untied}（V x d = {v * d}）；"
            f"未出现在输入中的 token 的 embedding 行梯度范数最大 {absent_grad:.2e}。"
        ),
        metrics={
            "parameters": n_chosen,
            "parameters_untied": n_untied,
            "max_grad_absent_rows": absent_grad,
            "loss": float(loss.item()),
        },
        tables=[table],
        charts=[chart, count_chart],
        claims=claims,
    )
