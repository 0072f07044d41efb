"""FID and Inception Score on toy features: what each one notices and what it misses."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "FID and Inception Score on toy features"
TITLE_ZH = "玩具特征上的 FID 与 Inception Score"
DESCRIPTION = (
    "Real 'features' come from four 2-D Gaussian modes; generators that match them, drop modes, "
    "shift them, or output only the four mode centres are scored with the Frechet distance and "
    "with the Inception Score of a Bayes classifier over the four modes."
)
DESCRIPTION_ZH = (
    '真实"特征"来自四个二维高斯峰；对与之匹配、丢掉峰、整体平移、只输出四个峰中心的生成器，'
    "分别计算 Fréchet 距离，以及基于四峰贝叶斯分类器的 Inception Score。"
)
CLAIMS = {
    "fid-near-zero-for-same-distribution": (
        "A generator matching the real distribution gets an FID below 5% of a mode-collapsed one's."
    ),
    "fid-mean-shift-closed-form": (
        "With equal covariances FID = ||mu_1 - mu_2||^2 exactly: shifting every sample by "
        "d adds d^2."
    ),
    "is-counts-modes": (
        "The Inception Score is close to the number of modes (above 3.5 of 4) for the real "
        "data and "
        "close to 1 (below 1.2) for a generator that collapsed onto one mode."
    ),
    "is-blind-to-within-mode-diversity": (
        "A generator that outputs only the four mode centres (no variety within a mode) scores an "
        "IS at least as high as the real data's."
    ),
}
CLAIMS_ZH = {
    "fid-near-zero-for-same-distribution": "与真实分布一致的生成器，FID 不到模式坍塌生成器的 5%。",
    ("fid-mean-shift-closed-form"): (
        "协方差相同时 FID 恰好等于 ||mu_1 - mu_2||^2：所有样本平移 d，FID 增加 d^2。"
    ),
    "is-counts-modes": (
        "真实数据的 Inception Score 接近峰的个数（4 个中大于 3.5），坍塌到一个峰的生成器接近 "
        "1（小于 1.2）。"
    ),
    ("is-blind-to-within-mode-diversity"): (
        "只输出四个峰中心的生成器（峰内没有任何多样性），IS 不低于真实数据。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "fid-near-zero-for-same-distribution": "always: it does not depend on the parameters",
    "fid-mean-shift-closed-form": "always: it does not depend on the parameters",
    "is-blind-to-within-mode-diversity": (
        "separation >= 2 (modes a classifier can tell apart) and samples >= 2000"
    ),
    "is-counts-modes": "separation >= 4 (modes a classifier can tell apart)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "fid-near-zero-for-same-distribution": "总成立：与参数无关",
    "fid-mean-shift-closed-form": "总成立：与参数无关",
    "is-blind-to-within-mode-diversity": (
        "separation >= 2（分类器能区分各个模式）且 samples >= 2000"
    ),
    "is-counts-modes": "separation >= 4（分类器能区分各个峰）",
}
TEXT_ZH = {
    "Distance of each mode from the origin": "每个峰到原点的距离",
    "Shift applied by the shifted generator": "平移生成器施加的平移量",
    "Samples per set": "每组样本数",
    "FID per generator": "各生成器的 FID",
    "generator": "生成器",
    "FID (log scale)": "FID（对数坐标）",
    "FID": "FID",
    "Scores": "评分",
    "IS": "IS",
}


class Params(BaseModel):
    separation: float = Field(
        6.0, ge=0.5, le=10.0, description="Distance of each mode from the origin"
    )
    shift: float = Field(1.0, ge=0.1, le=5.0, description="Shift applied by the shifted generator")
    samples: int = Field(4000, ge=1000, le=20000, description="Samples per set")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import math

    import torch

    torch.manual_seed(ctx.seed)
    r = params.separation
    centres = torch.tensor([[r, 0.0], [-r, 0.0], [0.0, r], [0.0, -r]], dtype=torch.float64)
    n = params.samples

    def draw(modes: list[int]):  # type: ignore[no-untyped-def]
        pick = torch.tensor(modes)[torch.randint(0, len(modes), (n,))]
        return centres[pick] + torch.randn(n, 2, dtype=torch.float64)

    def sqrtm_psd(m):  # type: ignore[no-untyped-def]
        vals, vecs = torch.linalg.eigh(m)
        return vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T

    def fid(a, b):  # type: ignore[no-untyped-def]
        mu1, mu2 = a.mean(0), b.mean(0)
        s1, s2 = torch.cov(a.T), torch.cov(b.T)
        root = sqrtm_psd(s1)
        cross = sqrtm_psd(root @ s2 @ root)  # Tr sqrt(S1 S2) = Tr sqrt(S1^1/2 S2 S1^1/2)
        return float(((mu1 - mu2) ** 2).sum() + torch.trace(s1 + s2 - 2 * cross))

    def inception_score(x):  # type: ignore[no-untyped-def]
        logits = -0.5 * ((x[:, None, :] - centres[None]) ** 2).sum(-1)
        p_yx = torch.softmax(logits, dim=1)
        p_y = p_yx.mean(0)
        kl = (p_yx * (torch.log(p_yx + 1e-12) - torch.log(p_y + 1e-12))).sum(1)
        return float(torch.exp(kl.mean()))

    real = draw([0, 1, 2, 3])
    generators = {
        "matching": draw([0, 1, 2, 3]),
        "two modes dropped": draw([0, 1]),
        "collapsed to one mode": draw([0]),
        "shifted": real + torch.tensor([params.shift, 0.0], dtype=torch.float64),
        "mode centres only": centres[torch.randint(0, 4, (n,))],
    }
    scores = {name: (fid(real, x), inception_score(x)) for name, x in generators.items()}
    is_real = inception_score(real)
    names = list(scores)
    chart = Chart(
        id="fid",
        title="FID per generator",
        kind="bar",
        x_label="generator",
        y_label="FID (log scale)",
        log_y=True,
        categories=names,
        series=[
            Series(
                name="FID",
                x=[float(i) for i in range(len(names))],
                y=[max(scores[k][0], 1e-6) for k in names],
            )
        ],
    )
    table = Table(
        title="Scores",
        columns=["generator", "FID", "IS"],
        rows=[["real data", 0.0, is_real]] + [[k, v[0], v[1]] for k, v in scores.items()],
    )
    shifted_fid = scores["shifted"][0]
    claims = [
        Claim(
            id="fid-near-zero-for-same-distribution",
            text=CLAIMS["fid-near-zero-for-same-distribution"],
            passed=scores["matching"][0] < 0.05 * scores["collapsed to one mode"][0],
            values={
                "fid_matching": scores["matching"][0],
                "fid_collapsed": scores["collapsed to one mode"][0],
            },
        ),
        Claim(
            id="fid-mean-shift-closed-form",
            text=CLAIMS["fid-mean-shift-closed-form"],
            passed=math.isclose(shifted_fid, params.shift**2, rel_tol=1e-6, abs_tol=1e-9),
            values={"fid_shifted": shifted_fid, "shift_squared": params.shift**2},
        ),
        Claim(
            id="is-counts-modes",
            text=CLAIMS["is-counts-modes"],
            passed=is_real > 3.5 and scores["collapsed to one mode"][1] < 1.2,
            values={"is_real": is_real, "is_collapsed": scores["collapsed to one mode"][1]},
        ),
        Claim(
            id="is-blind-to-within-mode-diversity",
            text=CLAIMS["is-blind-to-within-mode-diversity"],
            passed=scores["mode centres only"][1] >= is_real - 1e-9,
            values={
                "is_centres": scores["mode centres only"][1],
                "is_real": is_real,
                "fid_centres": scores["mode centres only"][0],
            },
        ),
    ]
    return DemoResult(
        summary=f"Real IS {is_real:.2f}. FID: matching {scores['matching'][0]:.3f}, two modes "
        "dropped "
        f"{scores['two modes dropped'][0]:.1f}, collapsed "
        f"{scores['collapsed to one mode'][0]:.1f}, "
        "shifted by "
        f"{params.shift} {shifted_fid:.3f}, centres only {scores['mode centres only'][0]:.2f} "
        f"(IS {scores['mode centres only'][1]:.2f}).",
        summary_zh=f"真实数据 IS {is_real:.2f}。FID：匹配 {scores['matching'][0]:.3f}，丢两个峰 "
        f"{scores['two modes dropped'][0]:.1f}，坍塌 {scores['collapsed to one mode'][0]:.1f}，"
        f"平移 {params.shift} 为 "
        f"{shifted_fid:.3f}，只输出中心 {scores['mode centres only'][0]:.2f}（IS "
        f"{scores['mode centres only'][1]:.2f}）"
        "。",
        metrics={
            "is_real": is_real,
            **{f"fid_{k.replace(' ', '_')}": v[0] for k, v in scores.items()},
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
