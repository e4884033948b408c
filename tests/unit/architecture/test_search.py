"""The tiny architecture search: FLOPs per candidate equal PyTorch's FlopCounterMode, the budget rejects before
training, the Pareto front on hand-made points, every bad field refused by name, and the search as a runner job
(per-trial events, stop, queue, determinism). Tiny settings: each search here trains for a second or two."""
import random
import threading

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from cnnviz.architecture import search
from cnnviz.architecture.search import SearchConfig, SearchTrial, propose, run_search, search_summary
from cnnviz.architecture.search_space import (BLOCKS, DEPTHS, KERNELS, WIDTHS, CandidateNet, Genes, candidate_flops,
                                              candidate_params, family_genes, mutate, pareto_front, sample)
from cnnviz.errors import ConfigError
from cnnviz.jobs.events import Finished
from cnnviz.jobs import run_job

TINY = dict(trials=3, epochs=1, n_train=64, family=False)
SPACE = [Genes(d, w, k, b) for d in DEPTHS for w in WIDTHS for k in KERNELS for b in BLOCKS]


def measured_flops(g: Genes) -> int:
    model = CandidateNet(g).eval()
    with FlopCounterMode(display=False) as fc:
        out = model(torch.zeros(1, 1, g.resolution, g.resolution))  # (1, 10)
    assert out.shape == (1, 10)
    return fc.get_total_flops()


def test_flops_of_every_candidate_equal_flop_counter_mode():
    for g in SPACE + [genes for _, genes in family_genes()]:
        assert candidate_flops(g) == measured_flops(g), g
        assert candidate_params(g) == sum(p.numel() for p in CandidateNet(g).parameters()), g


def test_flops_by_hand():
    # plain 3×3, 1 -> 4 channels on 8×8: 2·4·1·9·64 = 4,608; linear 4 -> 10: 2·4·10 = 80
    assert candidate_flops(Genes(1, 4, 3, "plain")) == 4_688
    # depthwise 3×3 on 1 channel: 2·1·9·64 = 1,152; pointwise 1 -> 4: 2·4·64 = 512; linear 80
    assert candidate_flops(Genes(1, 4, 3, "depthwise-separable")) == 1_744


def test_family_is_compound_scaling_of_the_baseline():
    # depth 2·1.2^φ, width 8·1.1^φ, side 8·1.15^φ, rounded: (2, 8, 8), (2.4, 8.8, 9.2), (2.88, 9.68, 10.58)
    assert [(phi, g.depth, g.width, g.resolution) for phi, g in family_genes()] == [(0, 2, 8, 8), (1, 2, 9, 9),
                                                                                  (2, 3, 10, 11)]
    flops = [candidate_flops(g) for _, g in family_genes()]
    assert flops == sorted(flops) and flops[0] == 46_400  # 9,216 + 36,864 + linear 2·16·10


def test_pareto_front_on_hand_points():
    pts = [(100, 0.5), (200, 0.7), (150, 0.6), (300, 0.65), (200, 0.4), (50, 0.3), (400, 0.9), (400, 0.9),
           (120, 0.5)]
    # (300, .65) < (200, .7); (200, .4) < (200, .7) at equal FLOPs; (120, .5) < (100, .5) at equal accuracy;
    # the two equal (400, .9) are both kept
    assert pareto_front(pts) == [5, 0, 2, 1, 6, 7]
    assert pareto_front([]) == [] and pareto_front([(10, 0.1)]) == [0]
    assert pareto_front([(10, 0.9), (5, 0.95)]) == [1]


@pytest.mark.parametrize("field, value", [("strategy", "grid"), ("budget_mflops", 0), ("budget_mflops", 11.0),
                                          ("budget_mflops", "1"), ("trials", 0), ("trials", 13), ("trials", True),
                                          ("epochs", 0), ("epochs", 6), ("seed", -1), ("n_train", 10),
                                          ("batch_size", 4), ("family", "yes"), ("lr", 0)])
def test_bad_config_fields_are_named(field, value):
    with pytest.raises(ConfigError) as err:
        SearchConfig(**{field: value})
    assert err.value.field == field


@pytest.mark.parametrize("field, value", [("depth", 4), ("width", 3), ("width", 17), ("kernel", 4),
                                          ("block", "dense"), ("resolution", 7)])
def test_bad_genes_are_named(field, value):
    with pytest.raises(ConfigError) as err:
        Genes(**{field: value})
    assert err.value.field == field


def test_mutation_changes_exactly_one_gene():
    rng = random.Random(0)
    for _ in range(50):
        g = sample(rng)
        m = mutate(g, rng)
        assert sum(getattr(g, f) != getattr(m, f) for f in ("depth", "width", "kernel", "block")) == 1


def trial(genes, acc, flops=1000):
    return SearchTrial(1, 8, "search", genes, flops, 10, acc)


def test_evolution_mutates_one_of_the_best_three():
    rng = random.Random(1)
    good = [Genes(1, 4, 3, "plain"), Genes(2, 8, 5, "residual"), Genes(3, 16, 3, "depthwise-separable")]
    trained = [trial(g, a) for g, a in zip(good, (0.9, 0.8, 0.85))] + [trial(Genes(1, 6, 5, "plain"), 0.1)]
    for _ in range(30):
        child = propose("evolution", rng, trained, trials=8)  # 4 trained = the first half: evolution from now on
        assert any(sum(getattr(p, f) != getattr(child, f) for f in ("depth", "width", "kernel", "block")) == 1
                   for p in good)
    assert propose("random", random.Random(1), trained, 8) == sample(random.Random(1))


def fake_training(monkeypatch, calls):
    def train(genes, data, cfg, seed, stop, device):
        calls.append(genes)
        return 0.5 + genes.width / 100  # wider is better, deterministic
    monkeypatch.setattr(search, "train_candidate", train)


def test_candidates_over_the_budget_are_rejected_untrained(monkeypatch):
    calls, events = [], []
    fake_training(monkeypatch, calls)
    cfg = SearchConfig(strategy="random", budget_mflops=0.01, trials=4, family=False)
    run_search(cfg, events.append, threading.Event(), device="cpu")
    rejected = [e for e in events if isinstance(e, SearchTrial) and e.kind == "rejected"]
    trained = [e for e in events if isinstance(e, SearchTrial) and e.kind == "search"]
    assert rejected and all(e.flops > 10_000 and e.accuracy is None for e in rejected)
    assert all(e.flops <= 10_000 for e in trained) and [e.genes for e in trained] == calls
    assert not {e.genes for e in rejected} & set(calls)
    assert [e.index for e in trained] == list(range(1, len(trained) + 1))


def test_a_tiny_search_runs_as_a_runner_job_and_reports_every_trial():
    events = []
    run_job(SearchConfig(strategy="evolution", trials=3, epochs=1, n_train=64, family=True), events.append,
            threading.Event(), lambda blob: None, "cpu")
    trials = [e for e in events if isinstance(e, SearchTrial) and e.kind != "rejected"]
    assert [(e.index, e.total, e.kind) for e in trials] == [(1, 6, "search"), (2, 6, "search"), (3, 6, "search"),
                                                            (4, 6, "family"), (5, 6, "family"), (6, 6, "family")]
    assert [e.phi for e in trials[3:]] == [0, 1, 2] and all(0 <= e.accuracy <= 1 for e in trials)
    assert all(e.flops == candidate_flops(e.genes) and e.flops <= 300_000 for e in trials[:3])
    end = events[-1]
    assert isinstance(end, Finished) and end.reason == "done"
    assert end.best_val_acc == max(e.accuracy for e in trials[:3])
    s = search_summary(events)
    assert len(s["searched"]) == 3 and len(s["family"]) == 3 and s["front"]


def test_stop_after_the_first_trial_ends_the_search():
    stop, events = threading.Event(), []

    def emit(e):
        events.append(e)
        if isinstance(e, SearchTrial) and e.kind == "search":
            stop.set()
    run_job(SearchConfig(**{**TINY, "family": True}), emit, stop, None, "cpu")
    trained = [e for e in events if isinstance(e, SearchTrial) and e.kind != "rejected"]
    assert len(trained) == 1 and trained[0].kind == "search"
    assert isinstance(events[-1], Finished) and events[-1].reason == "stopped"


def test_stop_within_a_trial():
    stop = threading.Event()
    stop.set()
    g = Genes(1, 4, 3, "plain")
    x, y = torch.rand(64, 1, 8, 8), torch.randint(0, 10, (64,))
    assert search.train_candidate(g, (x, y, x, y), SearchConfig(), 0, stop, torch.device("cpu")) is None


def test_same_seed_same_search():
    def run(seed):
        events = []
        run_search(SearchConfig(strategy="evolution", seed=seed, **TINY), events.append, threading.Event(),
                   device="cpu")
        return [(e.kind, e.genes, e.accuracy) for e in events if isinstance(e, SearchTrial)]
    a = run(0)
    assert a == run(0) and len([k for k, _, _ in a if k == "search"]) == 3
    assert [g for _, g, _ in run(1)] != [g for _, g, _ in a]


def test_runner_queues_and_stops_a_search():
    from cnnviz.jobs.runner import JobLimiter, ThreadRunner
    runner = ThreadRunner(JobLimiter(1))
    first = runner.submit(SearchConfig(trials=12, epochs=3, n_train=1400), owner="a")  # takes long: gets stopped
    second = runner.submit(SearchConfig(**TINY), owner="b")
    try:
        assert runner.status(second).state == "queued" and runner.status(second).queue_position == 1
        runner.stop(second, owner="b")  # leaves the queue at once
        assert runner.poll(second)[-1] == Finished(0, 0, "stopped", 0.0)
        with pytest.raises(ConfigError):
            runner.stop(first, owner="b")  # not its owner
    finally:
        runner.stop(first, owner="a")
        assert runner.join(first, timeout=30)
    assert runner.poll(first)[-1].reason == "stopped"


def test_the_job_runs_in_a_child_process():
    """The config pickles and the child's run_job dispatches it (the app's runner isolates every job)."""
    from cnnviz.jobs.child import run_isolated
    events = []
    failure = run_isolated(SearchConfig(**{**TINY, "trials": 2}), events.append, threading.Event(), lambda b: None,
                           "cpu", threads=1)
    assert failure is None
    assert [e.index for e in events if isinstance(e, SearchTrial) and e.kind == "search"] == [1, 2]
    assert isinstance(events[-1], Finished) and events[-1].reason == "done"


def test_the_ray_runner_refuses_a_search_cleanly():
    from cnnviz.jobs.cluster.ray_runner import RayRunner
    with pytest.raises(ConfigError, match="does not run a SearchConfig") as err:
        RayRunner.__new__(RayRunner).submit(SearchConfig(), owner="a")  # refused before any cluster call
    assert err.value.field == "job"


def test_figure_draws_front_rejected_budget_and_family():
    from cnnviz.figures.search import search_figure
    g = Genes()
    mk = lambda kind, f, a, phi=None: SearchTrial(1, 6, kind, g, f, 100, a, phi)  # noqa: E731
    events = [mk("search", 1000, 0.5), mk("rejected", 9000, None), mk("search", 500, 0.7), mk("search", 2000, 0.6),
              mk("family", 800, 0.55, 0), mk("family", 1600, 0.65, 1)]
    fig = search_figure(search_summary(events), 4000).to_dict()
    tr = {t["name"]: t for t in fig["data"]}
    assert fig["layout"]["xaxis"]["type"] == "log"
    assert list(tr["Pareto front"]["x"]) == [500] and tr["Pareto front"]["line"]["shape"] == "hv"
    assert list(tr["over the budget (not trained)"]["x"]) == [9000]
    assert tr["over the budget (not trained)"]["marker"]["symbol"] == "x"
    assert list(tr["budget 4,000 FLOPs"]["x"]) == [4000, 4000]
    assert list(tr["compound scaling (φ = 0, 1, 2)"]["text"]) == ["φ=0", "φ=1"]
    assert list(tr["searched"]["y"]) == pytest.approx([50.0, 70.0, 60.0])
    assert "1,000" in tr["searched"]["customdata"][0][1]


def test_figure_in_macs_halves_every_count_and_says_macs():
    from cnnviz.figures.search import search_figure
    g = Genes()
    mk = lambda kind, f, a, phi=None: SearchTrial(1, 6, kind, g, f, 100, a, phi)  # noqa: E731
    events = [mk("search", 1000, 0.5), mk("rejected", 9000, None), mk("search", 500, 0.7),
              mk("family", 800, 0.55, 0), mk("family", 1600, 0.65, 1)]
    flops = search_figure(search_summary(events), 4000).to_dict()
    macs = search_figure(search_summary(events), 4000, macs=True).to_dict()
    assert "FLOPs" in flops["layout"]["xaxis"]["title"]["text"]
    assert macs["layout"]["xaxis"]["title"]["text"].startswith("MACs") and "FLOPs" not in str(macs["layout"])
    tr = {t["name"]: t for t in macs["data"]}
    assert list(tr["searched"]["x"]) == [500, 250]  # 1,000 and 500 FLOPs, one MAC per 2 FLOPs
    assert list(tr["over the budget (not trained)"]["x"]) == [4500]
    assert list(tr["compound scaling (φ = 0, 1, 2)"]["x"]) == [400, 800]
    assert list(tr["budget 2,000 MACs"]["x"]) == [2000, 2000]
    assert tr["searched"]["customdata"][0][1] == "500" and "MACs" in tr["searched"]["hovertemplate"]
    assert all("FLOPs" not in t.get("hovertemplate", "") for t in macs["data"])


def test_the_formulas_state_the_rules_the_search_applies():
    from cnnviz.architecture.search_formulas import compound_factor, compound_scaling_latex, pareto_latex
    rule = pareto_latex("MACs")
    assert r"\ge \mathrm{acc}_i" in rule and r"\mathrm{MACs}_j \le \mathrm{MACs}_i" in rule and r"\vee" in rule
    # the rule as written: (1000, .5) is dominated by (500, .7); equal points both stay
    assert pareto_front([(1000, 0.5), (500, 0.7), (2000, 0.8), (2000, 0.8)]) == [1, 2, 3]
    rule_line, growth, scaled, family = compound_scaling_latex()
    assert r"\alpha = 1.2,\; \beta = 1.1,\; \gamma = 1.15" in rule_line
    assert r"\mathrm{FLOPs} \propto d\,w^2 r^2" in growth and r"\approx 1.92^{\phi}" in growth
    assert compound_factor() == pytest.approx(1.2 * 1.1 ** 2 * 1.15 ** 2)  # 1.920...
    # the family by hand: stages min(3, round(2·1.2^φ)), width round(8·1.1^φ), side round(8·1.15^φ)
    assert r"\phi = 0:\ (2,\ 8,\ 8\times8)" in family and r"\phi = 1:\ (2,\ 9,\ 9\times9)" in family
    assert r"\phi = 2:\ (3,\ 10,\ 11\times11)" in family  # 2·1.44 = 2.88 -> 3, 8·1.21 = 9.68 -> 10, 8·1.3225 = 10.58 -> 11
    assert "round(2" in scaled.replace(r"\,", "").replace(r"\operatorname{round}", "round")
