"""Multi-query and grouped-query attention: the KV cache shrinks by the group factor."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "MQA / GQA: fewer key-value heads, a smaller KV cache"
TITLE_ZH = "MQA / GQA：更少的 key-value head，更小的 KV cache"
DESCRIPTION = (
    "Decodes a sequence token by token with a grouped-query attention layer, counts the bytes of "
    "its key-value cache against full multi-head attention, and checks that GQA is MHA with "
    "each key-value head shared by a group of query heads."
)
DESCRIPTION_ZH = (
    "用分组查询注意力逐 token 解码，统计 KV cache 的字节数并与完整多头注意力比较，"
    "并验证 GQA 等价于让一组 query head 共享同一个 key-value head 的 MHA。"
)
CLAIMS = {
    "kv-cache-shrinks-by-group-factor": (
        "The measured KV cache of GQA is exactly n_kv_heads / n_heads of the MHA cache, a cut "
        "by the group factor n_heads / n_kv_heads > 1."
    ),
    "gqa-is-mha-with-shared-kv": (
        "GQA's output equals multi-head attention whose key and value heads are each repeated "
        "for the query heads of their group (to 1e-5)."
    ),
    "cached-decoding-matches-full": (
        "Decoding one token at a time from the KV cache gives the same outputs as attention over "
        "the whole causal sequence (to 1e-5)."
    ),
}
CLAIMS_ZH = {
    "kv-cache-shrinks-by-group-factor": (
        "实测 GQA 的 KV cache 恰好是 MHA 的 n_kv_heads / n_heads，即按分组因子 "
        "n_heads / n_kv_heads > 1 缩小。"
    ),
    "gqa-is-mha-with-shared-kv": (
        "GQA 的输出等于把每个 key/value head 复制给本组各 query head 的多头注意力（误差 1e-5 内）。"
    ),
    "cached-decoding-matches-full": (
        "用 KV cache 逐 token 解码，输出与对整个因果序列做注意力相同（误差 1e-5 内）。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "gqa-is-mha-with-shared-kv": "always: it does not depend on the parameters",
    "cached-decoding-matches-full": "always: it does not depend on the parameters",
    "kv-cache-shrinks-by-group-factor": "n_kv_heads < n_heads",
}
CLAIM_SHOWN_WHEN_ZH = {
    "gqa-is-mha-with-shared-kv": "总成立：与参数无关",
    "cached-decoding-matches-full": "总成立：与参数无关",
    "kv-cache-shrinks-by-group-factor": "n_kv_heads < n_heads 时",
}
TEXT_ZH = {
    "KV cache size vs generated tokens": "KV cache 大小随生成 token 数的变化",
    "tokens in the cache": "cache 中的 token 数",
    "KV cache (KiB)": "KV cache（KiB）",
    "MHA": "MHA",
    "GQA (chosen)": "GQA（所选）",
    "MQA": "MQA",
    "KV cache of a 7B-class model, fp16, one sequence": "7B 级模型单条序列的 KV cache（fp16）",
    "attention": "注意力",
    "kv heads": "kv head 数",
    "GiB at 4096 tokens": "4096 token 时的 GiB",
    "Query heads": "query head 数",
    "Key-value heads (1 = MQA, n_heads = MHA)": "key-value head 数（1 = MQA，n_heads = MHA）",
    "Head dimension": "head 维度",
    "Tokens decoded": "解码的 token 数",
}


class Params(BaseModel):
    n_heads: int = Field(8, ge=1, le=32, description="Query heads")
    n_kv_heads: int = Field(2, ge=1, le=32, description="Key-value heads (1 = MQA, n_heads = MHA)")
    d_head: int = Field(16, ge=4, le=128, description="Head dimension")
    seq_len: int = Field(48, ge=4, le=256, description="Tokens decoded")


def _gqa(q, k, v, causal: bool):  # type: ignore[no-untyped-def]
    """q: (h, n, d); k, v: (h_kv, m, d). Query head i reads key-value head i // group."""
    import torch

    group = q.shape[0] // k.shape[0]
    k = k.repeat_interleave(group, dim=0)
    v = v.repeat_interleave(group, dim=0)
    scores = q @ k.transpose(1, 2) / q.shape[-1] ** 0.5
    if causal:
        n, m = scores.shape[1:]
        future = torch.triu(torch.ones(n, m, dtype=torch.bool), diagonal=m - n + 1)
        scores = scores.masked_fill(future, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    h, h_kv, d, n = params.n_heads, params.n_kv_heads, params.d_head, params.seq_len
    if h % h_kv:
        raise ValueError(f"n_heads ({h}) must be a multiple of n_kv_heads ({h_kv})")
    torch.manual_seed(ctx.seed)
    width = h * d
    x = torch.randn(n, width)
    w_q = torch.randn(width, h * d) / width**0.5
    w_k = torch.randn(width, h_kv * d) / width**0.5
    w_v = torch.randn(width, h_kv * d) / width**0.5

    def project(t, w, heads):  # type: ignore[no-untyped-def]
        return (t @ w).view(t.shape[0], heads, d).transpose(0, 1)

    q, k, v = project(x, w_q, h), project(x, w_k, h_kv), project(x, w_v, h_kv)
    full = _gqa(q, k, v, causal=True)

    # Token-by-token decoding with a cache holding h_kv heads.
    cache_k, cache_v, outs, sizes = [], [], [], []
    for t in range(n):
        cache_k.append(k[:, t : t + 1])
        cache_v.append(v[:, t : t + 1])
        kc, vc = torch.cat(cache_k, dim=1), torch.cat(cache_v, dim=1)
        outs.append(_gqa(q[:, t : t + 1], kc, vc, causal=False))
        sizes.append((kc.numel() + vc.numel()) * kc.element_size())
    cached = torch.cat(outs, dim=1)
    cache_err = float((cached - full).abs().max().item())

    # The same layer as MHA whose key/value projections repeat each shared head.
    group = h // h_kv
    w_k_mha = w_k.view(width, h_kv, d).repeat_interleave(group, dim=1).reshape(width, h * d)
    w_v_mha = w_v.view(width, h_kv, d).repeat_interleave(group, dim=1).reshape(width, h * d)
    mha = _gqa(q, project(x, w_k_mha, h), project(x, w_v_mha, h), causal=True)
    equiv_err = float((mha - full).abs().max().item())

    bytes_per = 4  # float32 in this demo
    mha_bytes = 2 * h * d * n * bytes_per
    gqa_bytes = sizes[-1]
    ratio = mha_bytes / gqa_bytes
    ctx.progress(0.8, "summarizing")

    tokens = [float(t + 1) for t in range(n)]
    chart = Chart(
        id="cache",
        title="KV cache size vs generated tokens",
        x_label="tokens in the cache",
        y_label="KV cache (KiB)",
        series=[
            Series(
                name="MHA", x=tokens, y=[2 * h * d * (t + 1) * bytes_per / 1024 for t in range(n)]
            ),
            Series(name="GQA (chosen)", x=tokens, y=[s / 1024 for s in sizes]),
            Series(name="MQA", x=tokens, y=[2 * d * (t + 1) * bytes_per / 1024 for t in range(n)]),
        ],
    )
    # 2 (K and V) x layers x kv heads x d_head x tokens x 2 bytes.
    big = [("MHA", 32), ("GQA", 8), ("MQA", 1)]
    table = Table(
        title="KV cache of a 7B-class model, fp16, one sequence",
        columns=["attention", "kv heads", "GiB at 4096 tokens"],
        rows=[[name, kv, 2 * 32 * kv * 128 * 4096 * 2 / 2**30] for name, kv in big],
    )
    claims = [
        Claim(
            id="kv-cache-shrinks-by-group-factor",
            text=CLAIMS["kv-cache-shrinks-by-group-factor"],
            passed=bool(gqa_bytes * h == mha_bytes * h_kv and ratio > 1),
            values={"mha_bytes": mha_bytes, "gqa_bytes": gqa_bytes, "reduction": ratio},
        ),
        Claim(
            id="gqa-is-mha-with-shared-kv",
            text=CLAIMS["gqa-is-mha-with-shared-kv"],
            passed=bool(equiv_err < 1e-5),
            values={"max_abs_error": equiv_err},
        ),
        Claim(
            id="cached-decoding-matches-full",
            text=CLAIMS["cached-decoding-matches-full"],
            passed=bool(cache_err < 1e-5),
            values={"max_abs_error": cache_err},
        ),
    ]
    return DemoResult(
        summary=(
            f"{h} query heads sharing {h_kv} key-value heads: the cache for {n} tokens is "
            f"{gqa_bytes} bytes against {mha_bytes} for MHA ({ratio:.0f}x smaller)."
        ),
        summary_zh=(
            f"{h} 个 query head 共享 {h_kv} 个 key-value head：{n} 个 token 的 cache 为 "
            f"{gqa_bytes} 字节，MHA 为 {mha_bytes} 字节（小 {ratio:.0f} 倍）。"
        ),
        metrics={
            "mha_cache_bytes": mha_bytes,
            "gqa_cache_bytes": gqa_bytes,
            "reduction": ratio,
            "cache_vs_full_error": cache_err,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
