"""A linear autoencoder learns PCA's subspace; the bottleneck width decides what it can keep."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Linear autoencoder vs PCA"
TITLE_ZH = "线性自编码器与 PCA"
DESCRIPTION = (
    "Trains a linear autoencoder with a k-unit bottleneck on 20-dimensional data that lies near a "
    "5-dimensional subspace, and compares its reconstruction error with PCA's best rank-k error."
)
DESCRIPTION_ZH = (
    "在靠近 5 维子空间的 20 维数据上训练瓶颈为 k 的线性自编码器，把它的重建误差与 PCA 的最优秩"
    " k 误差比较。"
)
CLAIMS = {
    "linear-ae-matches-pca": (
        "The trained linear autoencoder's reconstruction error is within 5% of PCA's rank-k error "
        "(and never below it)."
    ),
    "narrow-bottleneck-loses-signal": (
        "With a bottleneck narrower than the data's 5 latent factors, the error stays well above "
        "the noise floor: information is lost."
    ),
    "spans-pca-subspace": (
        "The decoder's columns span the same subspace as PCA's top-k directions (every principal "
        "angle cosine above 0.99), though they need not be orthogonal principal axes."
    ),
}
CLAIMS_ZH = {
    ("linear-ae-matches-pca"): (
        "训练后的线性自编码器重建误差与 PCA 秩 k 误差相差不到 5%（而且不会更低）。"
    ),
    ("narrow-bottleneck-loses-signal"): (
        "瓶颈比数据的 5 个隐因子更窄时，误差明显高于噪声水平：信息丢失了。"
    ),
    "spans-pca-subspace": (
        "解码器的列张成的子空间与 PCA 前 k 个方向相同（所有主角度余弦都大于 0.99），但它们不一"
        "定是正交的主轴。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "linear-ae-matches-pca": (
        "enough training steps (about 100 or more; the default 300) and bottleneck below about 15"
    ),
    "spans-pca-subspace": "enough training steps (about 100 or more; the default 300)",
    "narrow-bottleneck-loses-signal": "bottleneck < 5",
}
CLAIM_SHOWN_WHEN_ZH = {
    "linear-ae-matches-pca": "训练步数足够（约 100 步以上，默认 300）且 bottleneck 小于约 15",
    "spans-pca-subspace": "训练步数足够（约 100 步以上，默认 300）",
    "narrow-bottleneck-loses-signal": "bottleneck < 5",
}
TEXT_ZH = {
    "Bottleneck width k": "瓶颈宽度 k",
    "Noise standard deviation": "噪声标准差",
    "Training steps": "训练步数",
    "Reconstruction error during training": "训练过程中的重建误差",
    "step": "步数",
    "mean squared error": "均方误差",
    "autoencoder": "自编码器",
    "PCA rank-k error": "PCA 秩 k 误差",
    "Errors": "误差",
    "model": "模型",
    "error": "误差",
}


class Params(BaseModel):
    bottleneck: int = Field(3, ge=1, le=20, description="Bottleneck width k")
    noise: float = Field(0.05, ge=0.0, le=0.5, description="Noise standard deviation")
    steps: int = Field(300, ge=20, le=1000, description="Training steps")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    n, d, r = 256, 20, 5
    factors = torch.randn(n, r) * torch.tensor([3.0, 2.5, 2.0, 1.5, 1.0])
    mixing = torch.linalg.qr(torch.randn(d, r))[0].T
    x = factors @ mixing + params.noise * torch.randn(n, d)
    x = (x - x.mean(0)).to(ctx.device)
    k = params.bottleneck
    eig, vecs = torch.linalg.eigh(x.T @ x / n)
    eig, vecs = eig.flip(0), vecs.flip(1)
    pca_error = float(eig[k:].sum() / d)  # mean squared error per coordinate
    model = nn.Sequential(nn.Linear(d, k, bias=False), nn.Linear(k, d, bias=False)).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    curve = []
    for step in range(params.steps):
        opt.zero_grad()
        loss = ((model(x) - x) ** 2).mean()
        loss.backward()
        opt.step()
        if step % 10 == 0:
            curve.append((float(step), float(loss.detach())))
    with torch.no_grad():
        ae_error = float(((model(x) - x) ** 2).mean())
    noise_floor = params.noise**2
    decoder_basis = torch.linalg.qr(model[1].weight.detach())[0]
    cosines = torch.linalg.svdvals(vecs[:, :k].T @ decoder_basis)
    min_cosine = float(cosines.min())
    rel = (ae_error - pca_error) / max(pca_error, 1e-12)
    chart = Chart(
        id="training",
        title="Reconstruction error during training",
        x_label="step",
        y_label="mean squared error",
        log_y=True,
        series=[
            Series(
                name="autoencoder", x=[s for s, _ in curve], y=[max(v, 1e-12) for _, v in curve]
            ),
            Series(
                name="PCA rank-k error",
                x=[curve[0][0], curve[-1][0]],
                y=[max(pca_error, 1e-12)] * 2,
            ),
        ],
    )
    claims = [
        Claim(
            id="linear-ae-matches-pca",
            text=CLAIMS["linear-ae-matches-pca"],
            passed=-1e-4 <= rel <= 0.05 or (pca_error < 1e-6 and ae_error < 1e-4),
            values={"ae_error": ae_error, "pca_error": pca_error},
        ),
        Claim(
            id="narrow-bottleneck-loses-signal",
            text=CLAIMS["narrow-bottleneck-loses-signal"],
            passed=k < r and pca_error > 10 * noise_floor and ae_error > 10 * noise_floor,
            values={"ae_error": ae_error, "noise_floor": noise_floor},
        ),
        Claim(
            id="spans-pca-subspace",
            text=CLAIMS["spans-pca-subspace"],
            passed=min_cosine > 0.99,
            values={"min_principal_cosine": min_cosine},
        ),
    ]
    return DemoResult(
        summary=f"k = {k}: linear autoencoder error {ae_error:.4f}, PCA rank-{k} error "
        f"{pca_error:.4f}, "
        f"noise floor {noise_floor:.4f}.",
        summary_zh=(
            f"k = {k}：线性自编码器误差 {ae_error:.4f}，PCA 秩 {k} 误差 {pca_error:.4f}，噪声水"
            f"平 {noise_floor:.4f}。"
        ),
        metrics={"ae_error": ae_error, "pca_error": pca_error, "noise_floor": noise_floor},
        tables=[
            Table(
                title="Errors",
                columns=["model", "error"],
                rows=[["autoencoder", ae_error], ["PCA rank-k error", pca_error]],
            )
        ],
        charts=[chart],
        claims=claims,
    )
