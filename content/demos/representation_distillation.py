"""Knowledge distillation: a temperature above 1 transfers the non-argmax probabilities."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Knowledge distillation and temperature"
TITLE_ZH = "知识蒸馏与温度"
DESCRIPTION = (
    "A confident linear teacher over 10 classes labels a small transfer set; three students of the "
    "same shape learn from its hard labels, from its soft targets at T = 1, and at the chosen "
    "T, and "
    "are compared on held-out inputs by how well they reproduce the teacher's non-argmax "
    "probabilities."
)
DESCRIPTION_ZH = (
    "一个对 10 个类别很自信的线性教师模型给一个小的迁移集打标签；三个同结构的学生分别从硬标签、"
    "T = 1 的软目标和所选 T 的软目标学习，在留出数据上比较它们复现教师非最大类概率的程度。"
)
CLAIMS = {
    "high-temperature-transfers-dark-knowledge": (
        "The student distilled at the chosen T matches the teacher's renormalised non-argmax "
        "probabilities at least 2x better (lower KL) than the student distilled at T = 1."
    ),
    "soft-targets-beat-hard-labels": (
        "Distilling at the chosen T agrees with the teacher's top-1 prediction on held-out inputs "
        "more often than training on its hard labels."
    ),
    "t-squared-restores-gradient-scale": (
        "The soft-target gradient shrinks roughly like 1/T^2: when T doubles, the gradient norm "
        "multiplied by T^2 changes by less than 1.5x, while without the factor it drops by "
        "more than 2.5x."
    ),
}
CLAIMS_ZH = {
    "high-temperature-transfers-dark-knowledge": (
        "在所选 T 下蒸馏的学生复现教师（重新归一化的）非最大类概率的效果，比 T = 1 蒸馏的学生"
        "至少好 2 倍（KL 更低）。"
    ),
    "soft-targets-beat-hard-labels": (
        "在所选 T 下蒸馏的学生，在留出数据上与教师 top-1 预测一致的比例高于只用硬标签训练的学生。"
    ),
    "t-squared-restores-gradient-scale": (
        "软目标梯度大致按 1/T^2 缩小：T 翻倍时，乘以 T^2 的梯度范数变化不到 1.5 倍，而不乘时下"
        "降超过 2.5 倍。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "high-temperature-transfers-dark-knowledge": "temperature >= 3",
    "soft-targets-beat-hard-labels": "temperature >= 2",
    "t-squared-restores-gradient-scale": "temperature >= 2",
}
CLAIM_SHOWN_WHEN_ZH = {
    "high-temperature-transfers-dark-knowledge": "temperature >= 3",
    "soft-targets-beat-hard-labels": "temperature >= 2",
    "t-squared-restores-gradient-scale": "temperature >= 2",
}
TEXT_ZH = {
    "Distillation temperature T": "蒸馏温度 T",
    "Examples in the transfer set": "迁移集样本数",
    "Scale of the teacher's logits (higher = more confident)": "教师 logit 的尺度（越大越自信）",
    "Training steps per student": "每个学生的训练步数",
    "Non-argmax KL to the teacher on held-out inputs": "留出数据上与教师非最大类分布的 KL",
    "student": "学生",
    "KL (lower is better)": "KL（越低越好）",
    "KL": "KL",
    "Students": "学生模型",
    "non-argmax KL": "非最大类 KL",
    "top-1 agreement": "top-1 一致率",
}


class Params(BaseModel):
    temperature: float = Field(4.0, ge=1.0, le=20.0, description="Distillation temperature T")
    transfer_examples: int = Field(100, ge=20, le=2000, description="Examples in the transfer set")
    teacher_scale: float = Field(
        10.0, ge=0.5, le=10.0, description="Scale of the teacher's logits (higher = more confident)"
    )
    steps: int = Field(150, ge=20, le=600, description="Training steps per student")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch.nn import functional as F

    torch.manual_seed(ctx.seed)
    d, k = 20, 10
    w_teacher = torch.randn(d, k) * params.teacher_scale / d**0.5
    x_train = torch.randn(params.transfer_examples, d).to(ctx.device)
    x_test = torch.randn(2000, d).to(ctx.device)
    w_teacher = w_teacher.to(ctx.device)
    t_train, t_test = x_train @ w_teacher, x_test @ w_teacher
    init = torch.randn(d, k) * 0.01

    def soft_loss(s_logits, t_logits, temp: float):  # type: ignore[no-untyped-def]
        return (
            F.kl_div(
                F.log_softmax(s_logits / temp, 1),
                F.softmax(t_logits / temp, 1),
                reduction="batchmean",
            )
            * temp**2
        )

    def train(mode: str, temp: float):  # type: ignore[no-untyped-def]
        w = init.clone().to(ctx.device).requires_grad_(True)
        opt = torch.optim.Adam([w], lr=0.05)
        for _ in range(params.steps):
            logits = x_train @ w
            if mode == "hard":
                loss = F.cross_entropy(logits, t_train.argmax(1))
            else:
                loss = soft_loss(logits, t_train, temp)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return w.detach()

    def dark_kl(w) -> float:  # type: ignore[no-untyped-def]
        s = x_test @ w
        top = t_test.argmax(1, keepdim=True)
        mask = torch.ones_like(t_test, dtype=torch.bool).scatter_(1, top, False)
        q = F.softmax(t_test.masked_fill(~mask, float("-inf")), 1)
        log_r = F.log_softmax(s.masked_fill(~mask, float("-inf")), 1)
        return float(
            (q * (torch.log(q.clamp(min=1e-30)) - log_r.clamp(min=-1e9)))
            .masked_fill(~mask, 0)
            .sum(1)
            .mean()
        )

    def agreement(w) -> float:  # type: ignore[no-untyped-def]
        return float(((x_test @ w).argmax(1) == t_test.argmax(1)).float().mean())

    students = {
        "hard labels": train("hard", 1.0),
        "soft, T = 1": train("soft", 1.0),
        f"soft, T = {params.temperature:g}": train("soft", params.temperature),
    }
    results = {name: (dark_kl(w), agreement(w)) for name, w in students.items()}
    kl_hard, agree_hard = results["hard labels"]
    kl_t1, _ = results["soft, T = 1"]
    kl_t, agree_t = results[f"soft, T = {params.temperature:g}"]

    def grad_norm(temp: float, scaled: bool) -> float:
        w = init.clone().to(ctx.device).requires_grad_(True)
        loss = soft_loss(x_train @ w, t_train, temp) / (1.0 if scaled else temp**2)
        (g,) = torch.autograd.grad(loss, w)
        return float(g.norm())

    T = params.temperature
    scaled_ratio = grad_norm(T, True) / grad_norm(2 * T, True)
    raw_ratio = grad_norm(T, False) / grad_norm(2 * T, False)
    teacher_top = float(F.softmax(t_test, 1).max(1).values.mean())
    names = list(results)
    chart = Chart(
        id="dark-kl",
        title="Non-argmax KL to the teacher on held-out inputs",
        kind="bar",
        x_label="student",
        y_label="KL (lower is better)",
        categories=names,
        series=[
            Series(name="KL", x=[float(i) for i in range(3)], y=[results[n][0] for n in names])
        ],
    )
    table = Table(
        title="Students",
        columns=["student", "non-argmax KL", "top-1 agreement"],
        rows=[[n, results[n][0], results[n][1]] for n in names],
    )
    claims = [
        Claim(
            id="high-temperature-transfers-dark-knowledge",
            text=CLAIMS["high-temperature-transfers-dark-knowledge"],
            passed=kl_t * 2 <= kl_t1,
            values={"kl_T": kl_t, "kl_T1": kl_t1, "kl_hard": kl_hard},
        ),
        Claim(
            id="soft-targets-beat-hard-labels",
            text=CLAIMS["soft-targets-beat-hard-labels"],
            passed=agree_t > agree_hard,
            values={"agreement_T": agree_t, "agreement_hard": agree_hard},
        ),
        Claim(
            id="t-squared-restores-gradient-scale",
            text=CLAIMS["t-squared-restores-gradient-scale"],
            passed=1 / 1.5 < scaled_ratio < 1.5 and raw_ratio > 2.5,
            values={"scaled_ratio": scaled_ratio, "raw_ratio": raw_ratio},
        ),
    ]
    return DemoResult(
        summary=f"Teacher's mean top probability {teacher_top:.2f}. Non-argmax KL on held-out "
        "inputs: "
        f"hard labels {kl_hard:.3f}, "
        f"T = 1 {kl_t1:.3f}, T = {T:g} {kl_t:.3f}; top-1 agreement {agree_hard:.3f} vs "
        f"{agree_t:.3f}.",
        summary_zh=f"教师平均最大概率 {teacher_top:.2f}。留出数据上的非最大类 KL：硬标签 "
        f"{kl_hard:.3f}，"
        f"T = 1 为 {kl_t1:.3f}，"
        f"T = {T:g} 为 {kl_t:.3f}；top-1 一致率 {agree_hard:.3f} 对 {agree_t:.3f}。",
        metrics={
            "teacher_top_probability": teacher_top,
            "kl_hard": kl_hard,
            "kl_T1": kl_t1,
            "kl_T": kl_t,
            "agreement_hard": agree_hard,
            "agreement_T": agree_t,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
