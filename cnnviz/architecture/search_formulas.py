"""The Search (NAS) tab's two rules as LaTeX: the Pareto front (the rule ``search_space.pareto_front`` applies) and
EfficientNet's compound scaling with the α, β, γ and the baseline that ``search_space.family_genes`` uses, the
family's rounded genes substituted. Pure strings; the page draws them with ``st.latex``."""
from __future__ import annotations

from cnnviz.architecture.blocks.scaling import ALPHA, BETA, GAMMA
from cnnviz.architecture.search_space import BASELINE, family_genes


def pareto_latex(unit: str = "FLOPs") -> str:
    """Candidate i is on the front when no other candidate j is at least as accurate for at most the compute,
    one of the two strictly (``unit``: "FLOPs" or "MACs"; the rule is the same in either)."""
    u = rf"\mathrm{{{unit}}}"
    return (rf"i \in \text{{front}} \iff \nexists\, j:\; \mathrm{{acc}}_j \ge \mathrm{{acc}}_i \;\wedge\; {u}_j \le {u}_i"
            rf"\;\wedge\; \big(\mathrm{{acc}}_j > \mathrm{{acc}}_i \;\vee\; {u}_j < {u}_i\big)")


def compound_factor() -> float:
    """α·β²·γ²: the compute grows by this factor per step of φ (≈ 2 by EfficientNet's choice)."""
    return ALPHA * BETA ** 2 * GAMMA ** 2


def compound_scaling_latex(unit: str = "FLOPs") -> list[str]:
    """Four lines: the rule with the values used, the compute's growth, how this search scales its baseline (stages,
    width and input side times α^φ, β^φ, γ^φ, rounded; stages at most 3) and the family that gives."""
    u = rf"\mathrm{{{unit}}}"
    rule = (rf"d = \alpha^{{\phi}},\quad w = \beta^{{\phi}},\quad r = \gamma^{{\phi}},\qquad "
            rf"\alpha = {ALPHA:g},\; \beta = {BETA:g},\; \gamma = {GAMMA:g}")
    growth = (rf"{u} \propto d\,w^2 r^2 = (\alpha\,\beta^2\gamma^2)^{{\phi}} = "
              rf"({ALPHA:g}\cdot{BETA:g}^2\cdot{GAMMA:g}^2)^{{\phi}} \approx {compound_factor():.2f}^{{\phi}}")
    b = BASELINE
    family = r",\quad ".join(
        rf"\phi = {phi}:\ ({g.depth},\ {g.width},\ {g.resolution}\times{g.resolution})" for phi, g in family_genes())
    rnd = r"\operatorname{round}"
    scaled = (rf"(\text{{stages}},\ \text{{width}},\ \text{{input}}) = \big(\min(3,\ {rnd}({b.depth}\,\alpha^{{\phi}})),\ "
              rf"{rnd}({b.width}\,\beta^{{\phi}}),\ {rnd}({b.resolution}\,\gamma^{{\phi}})\big)")
    return [rule, growth, scaled, family]
