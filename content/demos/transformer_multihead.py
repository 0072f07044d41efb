"""Multi-head attention: what extra heads buy (two lookups at once), what they cost (nothing)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Multi-head attention: two lookups at once, same parameter count"
TITLE_ZH = "多头注意力：同时做两次查找，参数量不变"
DESCRIPTION = (
    "Trains one attention layer to output both the token one step back and the token three "
    "steps back, with 1 head and with the chosen number of heads; counts parameters per head "
    "count and checks a hand-written multi-head attention and cross-attention against PyTorch."
)
DESCRIPTION_ZH = (
    "训练一层注意力同时输出前 1 个和前 3 个位置的 token，比较 1 个 head 和所选 head 数；"
    "统计不同 head 数下的参数量，并用手写的多头注意力和交叉注意力对照 PyTorch 的实现。"
)
CLAIMS = {
    "two-lookups-need-two-heads": (
        "With the chosen number of heads, one attention layer learns to fetch two tokens at "
        "different offsets (final loss below 0.05), which a single head cannot (loss above 0.2)."
    ),
    "param-count-independent-of-heads": (
        "nn.MultiheadAttention has 4 d^2 + 4 d parameters whatever the number of heads."
    ),
    "manual-matches-pytorch": (
        "Splitting into heads, attending per head, concatenating and projecting by hand matches "
        "nn.MultiheadAttention to 1e-5, for self- and for cross-attention."
    ),
    "cross-attention-ignores-memory-order": (
        "Cross-attention output has one row per query and does not change when the encoder "
        "memory is permuted."
    ),
}
CLAIMS_ZH = {
    "two-lookups-need-two-heads": (
        "在所选 head 数下，一层注意力能学会同时取出两个不同偏移的 token（最终 loss 低于 0.05），"
        "单个 head 做不到（loss 高于 0.2）。"
    ),
    "param-count-independent-of-heads": (
        "nn.MultiheadAttention 的参数量总是 4 d^2 + 4 d，与 head 数无关。"
    ),
    "manual-matches-pytorch": (
        "手工拆 head、逐 head 做注意力、拼接再投影，与 nn.MultiheadAttention 的结果相差小于 1e-5，"
        "自注意力和交叉注意力都成立。"
    ),
    "cross-attention-ignores-memory-order": (
        "交叉注意力的输出每个 query 一行，打乱 encoder 输出（memory）的顺序结果不变。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "param-count-independent-of-heads": "always: it does not depend on the parameters",
    "manual-matches-pytorch": "always: it does not depend on the parameters",
    "cross-attention-ignores-memory-order": "always: it does not depend on the parameters",
    "two-lookups-need-two-heads": "heads >= 2",
}
CLAIM_SHOWN_WHEN_ZH = {
    "param-count-independent-of-heads": "总成立：与参数无关",
    "manual-matches-pytorch": "总成立：与参数无关",
    "cross-attention-ignores-memory-order": "总成立：与参数无关",
    "two-lookups-need-two-heads": "heads >= 2 时",
}
TEXT_ZH = {
    "Training loss: fetch tokens at offsets 1 and 3": "训练 loss：取偏移 1 和 3 的 token",
    "step": "步数",
    "MSE": "均方误差",
    "1 head": "1 个 head",
    "chosen heads": "所选 head 数",
    "Parameters per head count": "不同 head 数的参数量",
    "heads": "head 数",
    "parameters": "参数量",
    "4 d^2 + 4 d": "4 d^2 + 4 d",
    "Number of attention heads in the trained layer": "训练的注意力层的 head 数",
    "Model width d_model": "模型宽度 d_model",
    "Training steps": "训练步数",
}


class Params(BaseModel):
    heads: int = Field(2, ge=1, le=8, description="Number of attention heads in the trained layer")
    d_model: int = Field(32, ge=8, le=64, description="Model width d_model")
    steps: int = Field(120, ge=50, le=1000, description="Training steps")


SEQ, D_IN, OFFSETS = 10, 8, (1, 3)


def _train(heads: int, d_model: int, steps: int, seed: int, device):  # type: ignore[no-untyped-def]
    import torch
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(seed)
    embed = nn.Linear(D_IN, d_model)
    qkv = nn.Linear(d_model, 3 * d_model)
    out_proj = nn.Linear(d_model, d_model)
    head_out = nn.Linear(d_model, D_IN * len(OFFSETS))
    pos = nn.Parameter(torch.randn(SEQ, d_model) * 0.5)
    modules = nn.ModuleList([embed, qkv, out_proj, head_out]).to(device)
    pos = nn.Parameter(pos.detach().to(device))
    opt = torch.optim.Adam([*modules.parameters(), pos], lr=2e-2)
    first = max(OFFSETS)
    losses = []
    for _ in range(steps):
        x = torch.randn(32, SEQ, D_IN).to(device)
        target = torch.cat([x[:, first - o : SEQ - o] for o in OFFSETS], dim=-1)
        h = embed(x) + pos
        q, k, v = (t.view(32, SEQ, heads, -1).transpose(1, 2) for t in qkv(h).chunk(3, dim=-1))
        mixed = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        out = out_proj(mixed.transpose(1, 2).reshape(32, SEQ, d_model))
        loss = ((head_out(out)[:, first:] - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
    return losses


def _manual_mha(attn, q_in, kv_in):  # type: ignore[no-untyped-def]
    """Multi-head attention written out: project, split heads, attend, concatenate, project."""
    import torch

    d = attn.embed_dim
    h = attn.num_heads
    w_q, w_k, w_v = attn.in_proj_weight.split(d)
    b_q, b_k, b_v = attn.in_proj_bias.split(d)

    def split(t):  # type: ignore[no-untyped-def]
        b, n, _ = t.shape
        return t.view(b, n, h, d // h).transpose(1, 2)  # (b, h, n, d_head)

    q = split(q_in @ w_q.T + b_q)
    k = split(kv_in @ w_k.T + b_k)
    v = split(kv_in @ w_v.T + b_v)
    weights = torch.softmax(q @ k.transpose(-1, -2) / (d // h) ** 0.5, dim=-1)
    out = (weights @ v).transpose(1, 2).reshape(q_in.shape[0], q_in.shape[1], d)
    return attn.out_proj(out)


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    if params.d_model % params.heads:
        raise ValueError(f"d_model ({params.d_model}) must be divisible by heads ({params.heads})")
    device = torch.device(ctx.device)
    one = _train(1, params.d_model, params.steps, ctx.seed, device)
    ctx.progress(0.45, "training with the chosen heads")
    many = _train(params.heads, params.d_model, params.steps, ctx.seed, device)
    tail = max(1, params.steps // 10)
    loss_one = sum(one[-tail:]) / tail
    loss_many = sum(many[-tail:]) / tail

    d = params.d_model
    counts = {}
    for h in (1, 2, 4, 8):
        if d % h == 0:
            m = nn.MultiheadAttention(d, h)
            counts[h] = sum(p.numel() for p in m.parameters())
    count_ok = all(c == 4 * d * d + 4 * d for c in counts.values())

    torch.manual_seed(ctx.seed)
    attn = nn.MultiheadAttention(d, params.heads, batch_first=True).to(device).eval()
    x = torch.randn(2, 7, d).to(device)
    memory = torch.randn(2, 5, d).to(device)
    with torch.no_grad():
        self_err = float((attn(x, x, x)[0] - _manual_mha(attn, x, x)).abs().max().item())
        cross = attn(x, memory, memory)[0]
        cross_err = float((cross - _manual_mha(attn, x, memory)).abs().max().item())
        perm = torch.randperm(5)
        shuffled = attn(x, memory[:, perm], memory[:, perm])[0]
        order_change = float((cross - shuffled).abs().max().item())

    every = max(1, params.steps // 100)
    xs = [float(i) for i in range(0, params.steps, every)]
    chart = Chart(
        id="loss",
        title="Training loss: fetch tokens at offsets 1 and 3",
        x_label="step",
        y_label="MSE",
        log_y=True,
        series=[
            Series(name="1 head", x=xs, y=one[::every]),
            Series(name="chosen heads", x=xs, y=many[::every]),
        ],
    )
    count_chart = Chart(
        id="params",
        title="Parameters per head count",
        kind="bar",
        x_label="heads",
        y_label="parameters",
        categories=[str(h) for h in counts],
        series=[
            Series(
                name="parameters",
                x=[float(h) for h in counts],
                y=[float(c) for c in counts.values()],
            )
        ],
    )
    table = Table(
        title="Parameters per head count",
        columns=["heads", "parameters", "4 d^2 + 4 d"],
        rows=[[h, c, 4 * d * d + 4 * d] for h, c in counts.items()],
    )
    claims = [
        Claim(
            id="two-lookups-need-two-heads",
            text=CLAIMS["two-lookups-need-two-heads"],
            passed=bool(loss_many < 0.05 and loss_one > 0.2),
            values={"loss_chosen_heads": loss_many, "loss_one_head": loss_one},
        ),
        Claim(
            id="param-count-independent-of-heads",
            text=CLAIMS["param-count-independent-of-heads"],
            passed=count_ok,
            values={f"params_{h}_heads": c for h, c in counts.items()},
        ),
        Claim(
            id="manual-matches-pytorch",
            text=CLAIMS["manual-matches-pytorch"],
            passed=bool(self_err < 1e-5 and cross_err < 1e-5),
            values={"self_attention_error": self_err, "cross_attention_error": cross_err},
        ),
        Claim(
            id="cross-attention-ignores-memory-order",
            text=CLAIMS["cross-attention-ignores-memory-order"],
            passed=bool(cross.shape[1] == x.shape[1] and order_change < 1e-5),
            values={"max_change_after_permuting_memory": order_change},
        ),
    ]
    return DemoResult(
        summary=(
            f"Fetching the tokens 1 and 3 steps back: final loss {loss_one:.3f} with 1 head, "
            f"{loss_many:.4f} with {params.heads} heads; every head count has "
            f"{4 * d * d + 4 * d} parameters at d={d}."
        ),
        summary_zh=(
            f"同时取前 1 和前 3 个 token：1 个 head 最终 loss {loss_one:.3f}，{params.heads} 个 "
            f"head 为 {loss_many:.4f}；d={d} 时任何 head 数的参数量都是 {4 * d * d + 4 * d}。"
        ),
        metrics={
            "loss_one_head": loss_one,
            "loss_chosen_heads": loss_many,
            "parameters": 4 * d * d + 4 * d,
            "self_attention_error": self_err,
            "cross_attention_error": cross_err,
        },
        tables=[table],
        charts=[chart, count_chart],
        claims=claims,
    )
