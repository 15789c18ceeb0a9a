"""Continual learning: the task split, the regularisers' anchors, the learners and the stage end to end."""

import json

import numpy as np
import pytest
import torch

from ebm.config import ConfigError
from ebm.continual import (EWC, MAS, SI, EnergyClassifier, FineTune, LwF, VAEReplay, build_continual, build_method,
                           run_tasks, split_tasks, task_classes)
from ebm.continual.config import METHOD_NAMES
from ebm.continual.lwf import distillation
from ebm.continual.regularizers import quadratic_penalty
from ebm.data import load_digits

TINY = {"hidden": [32, 32], "epochs": 2, "batch_size": 16, "n_seeds": 1,
        "ewc": {"n_samples": 20}, "mas": {"n_samples": 20}, "vae": {"latent": 4, "epochs": 2},
        "ebm": {"epochs": 2, "n_noise": 8}}


def digits(n_per_class=20, seed=0):
    """A small, class-balanced slice of the real digits: x [N, 64] in [0, 1], y [N]."""
    x, y = load_digits()
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), n_per_class, replace=False) for c in range(10)])
    return torch.from_numpy(x[idx]).float().flatten(1) / 255, torch.from_numpy(y[idx])


def test_split_gives_disjoint_consecutive_pairs_and_no_class_leaks_into_an_earlier_task():
    y = torch.randint(0, 10, (500,), generator=torch.Generator().manual_seed(0))
    tasks = split_tasks(y, 10, 2)
    assert [t.classes for t in tasks] == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    covered = torch.cat([t.index for t in tasks])
    assert sorted(covered.tolist()) == list(range(500))  # every sample in exactly one task
    for k, task in enumerate(tasks):
        labels = set(y[task.index].tolist())
        assert labels == set(task.classes)
        later = {c for t in tasks[k + 1:] for c in t.classes}
        assert not labels & later  # a later task's class never shows up early
    with pytest.raises(ValueError):
        task_classes(10, 3)


def trained_on_first_task(method, x, y):
    """``method`` after the task of classes 0/1 (a few batches); returns that task's images."""
    task = split_tasks(y, 10, 2)[0]
    method.begin_task(0, task.classes, task.classes)
    xs, ys = x[task.index], y[task.index]
    for i in range(0, len(xs), 8):
        method.observe(xs[i:i + 8], ys[i:i + 8])
    method.end_task(xs, ys)
    return xs


def fitted(cls, key=None):
    """A tiny ``cls`` after the first task, and that task's images."""
    torch.manual_seed(0)
    s = build_continual(TINY)
    x, y = digits()
    method = cls(64, 10, s.common, *([getattr(s, key)] if key else []))
    return method, trained_on_first_task(method, x, y)


@pytest.mark.parametrize("cls,key", [(EWC, "ewc"), (SI, "si"), (MAS, "mas")])
def test_quadratic_penalty_is_zero_at_its_anchor_and_grows_away_from_it(cls, key):
    method, xs = fitted(cls, key)
    logits = method.net(xs)
    assert method.penalty(xs, logits).item() == 0.0  # the weights are the anchor
    importance = method.anchors[0][0]
    assert all((v >= 0).all() for v in importance.values()) and sum(v.sum() for v in importance.values()) > 0
    with torch.no_grad():
        for p in method.net.parameters():
            p.add_(0.01 * torch.randn_like(p))
    assert method.penalty(xs, method.net(xs)).item() > 0


def test_quadratic_penalty_formula():
    net = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 3.0]]))
    anchor = {"weight": torch.tensor([[0.0, 1.0]])}
    importance = {"weight": torch.tensor([[2.0, 0.5]])}
    assert quadratic_penalty(net, [(importance, anchor)]).item() == pytest.approx(2 * 1 + 0.5 * 4)


def test_lwf_distillation_is_zero_at_the_teacher_and_positive_elsewhere():
    method, xs = fitted(LwF, "lwf")
    method.begin_task(1, (2, 3), (0, 1, 2, 3))
    assert method.old == [0, 1]
    assert method.penalty(xs, method.net(xs)).item() == pytest.approx(0.0, abs=1e-6)  # student == teacher
    assert distillation(torch.tensor([[0.0, 2.0]]), torch.tensor([[2.0, 0.0]]), 2.0).item() > 0


def test_si_path_integral_only_collects_on_the_current_task():
    method, _ = fitted(SI, "si")
    first = {k: v.clone() for k, v in method.importance.items()}
    method.begin_task(1, (2, 3), (0, 1, 2, 3))
    assert all((v == 0).all() for v in method.omega.values())  # reset for the new task
    assert all(torch.equal(first[k], method.importance[k]) for k in first)  # kept until the task ends


def test_finetune_forgets_the_first_task_in_the_class_incremental_loop():
    """The loop is class-incremental: after learning 2/3, plain fine-tuning calls every image 2 or 3."""
    torch.manual_seed(0)
    s = build_continual({**TINY, "epochs": 15, "lr": 0.005, "hidden": [64]})
    x, y = digits()
    tasks = split_tasks(y, 10, 2)[:2]
    result = run_tasks(FineTune(64, 10, s.common), (x, y), (x, y), tasks, tasks)
    (after_first, _), (after_second_on_first, after_second) = result.acc_task[""]
    assert after_first > 0.9 and after_second > 0.9
    assert after_second_on_first < 0.1


def test_ebm_classifies_by_lowest_energy_over_all_labels():
    method, x = fitted(EnergyClassifier, "ebm")
    e = method.energies(x[:5])
    assert e.shape == (5, 10)
    assert torch.equal(method.scores(x[:5]).argmax(1), e.argmin(1))
    for i in range(5):  # each column is E(x, y) for that label, no per-label offset
        assert torch.allclose(e[i], method.model(x[i:i + 1], torch.arange(10)[None])[0], atol=1e-5)
    assert set(method.scorers()) == {""}  # the paper's rule only


def test_ebm_refuses_images_of_an_earlier_task():
    """The EBM keeps only its weights between tasks: handing it a finished task's images is an error."""
    method, _ = fitted(EnergyClassifier, "ebm")
    x, y = digits()
    method.begin_task(1, (2, 3), (0, 1, 2, 3))
    new = (y == 2) | (y == 3)
    method.observe(x[new][:8], y[new][:8])  # the current task: fine
    old = y == 0
    with pytest.raises(ValueError, match=r"labels \[0\] outside the current task \[2, 3\]"):
        method.observe(x[old][:8], y[old][:8])
    with pytest.raises(ValueError, match="outside the current task"):
        method.observe(torch.cat([x[new][:4], x[old][:4]]), torch.cat([y[new][:4], y[old][:4]]))


def test_the_loop_hands_the_ebm_only_the_current_task_and_it_stores_no_images():
    torch.manual_seed(0)
    s = build_continual(TINY)
    x, y = digits(6)
    tasks = split_tasks(y, 10, 2)
    method = EnergyClassifier(64, 10, s.common, s.ebm)
    seen_labels = []
    observe = method.observe
    method.observe = lambda xb, yb: (seen_labels.append((tuple(method.classes.tolist()), set(yb.tolist()))),
                                     observe(xb, yb))[1]
    run_tasks(method, (x, y), (x, y), tasks, tasks)
    assert seen_labels and all(labels <= set(classes) for classes, labels in seen_labels)
    kept = [v for v in vars(method).values() if torch.is_tensor(v) and v.dtype.is_floating_point]
    assert not kept  # no image buffer, no per-label statistics: only the model's weights carry over


def test_old_labels_get_no_direct_gradient():
    """Training task 2 gives gradient to the embeddings of labels 2 and 3 only; 0 and 1 (and the labels of
    tasks to come) change only through the shared weights (and Adam's decaying momentum of task 1)."""
    method, _ = fitted(EnergyClassifier, "ebm")
    x, y = digits()
    method.begin_task(1, (2, 3), (0, 1, 2, 3))
    new = (y == 2) | (y == 3)
    method.observe(x[new][:16], y[new][:16])
    grad = method.model.embed[0].weight.grad
    assert torch.equal(grad[[0, 1, 4, 5, 6, 7, 8, 9]], torch.zeros_like(grad[[0, 1, 4, 5, 6, 7, 8, 9]]))
    assert grad[[2, 3]].abs().sum() > 0


def test_ebm_energy_is_label_specific():
    """E(x, y) = f(x, y) - f(x, no label): with the label embeddings at zero every energy is exactly 0."""
    method, x = fitted(EnergyClassifier, "ebm")
    with torch.no_grad():
        method.model.embed[0].weight.zero_()
    assert torch.allclose(method.energies(x[:5]), torch.zeros(5, 10), atol=1e-6)


def test_ebm_learns_one_task_by_lowest_energy():
    torch.manual_seed(0)
    s = build_continual({**TINY, "hidden": [64, 64], "ebm": {"epochs": 15, "batch_size": 32, "n_noise": 32}})
    x, y = digits(40)
    task = split_tasks(y, 10, 2)[0]
    method = EnergyClassifier(64, 10, s.common, s.ebm)
    xs, ys = x[task.index], y[task.index]
    method.begin_task(0, task.classes, task.classes)
    for _ in range(method.epochs):
        perm = torch.randperm(len(xs))
        for i in range(0, len(perm), 32):
            method.observe(xs[perm[i:i + 32]], ys[perm[i:i + 32]])
    assert (method.energies(xs)[:, [0, 1]].argmin(1) == ys).float().mean() > 0.8  # 0 vs 1 by lowest energy


def test_vae_scores_by_elbo_and_replays_only_earlier_classes():
    method, x = fitted(VAEReplay, "vae")
    method.begin_task(1, (2, 3), (0, 1, 2, 3))
    xr, yr = method.replay_batch(200)
    assert set(yr.tolist()) <= {0, 1} and xr.shape == (200, 64) and 0 <= xr.min() and xr.max() <= 1
    sc = method.scores(x[:3])
    manual = -method.model.neg_elbo(x[:1].repeat(10, 1), torch.arange(10), sample=False)
    assert torch.allclose(sc[0], manual, atol=1e-4)


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_every_method_runs_the_shared_loop(name):
    torch.manual_seed(0)
    s = build_continual(TINY)
    x, y = digits(6)
    tasks = split_tasks(y, 10, 2)
    result = run_tasks(build_method(name, 64, 10, s), (x, y), (x, y), tasks, tasks)
    assert len(result.acc_all[""]) == 5 and all(0 <= a <= 1 for a in result.acc_all[""])


def test_each_task_trains_through_the_one_fit_loop_in_a_fresh_order_per_epoch(monkeypatch):
    """The continual learners, the EBM among them, train through ebm.training.fit: one step per minibatch,
    every image once per epoch, a new order each epoch."""
    from ebm.continual import loop

    calls, real = [], loop.fit
    monkeypatch.setattr(loop, "fit", lambda trainer, batch, n, **kw: calls.append(n) or real(trainer, batch, n, **kw))
    torch.manual_seed(0)
    s = build_continual(TINY)
    x, y = digits(6)
    tasks = split_tasks(y, 10, 2)
    method = build_method("ebm", 64, 10, s)
    run_tasks(method, (x, y), (x, y), tasks, tasks)
    assert calls == [method.epochs * -(-len(t.index) // method.batch_size) for t in tasks]
    batch, n = loop.epoch_batches(torch.arange(10.0)[:, None], torch.arange(10), epochs=2, batch_size=4)
    epochs = [torch.cat([batch(step)[1] for step in range(e * 3 + 1, e * 3 + 4)]) for e in range(2)]
    assert n == 6 and all(sorted(e.tolist()) == list(range(10)) for e in epochs)
    assert not torch.equal(epochs[0], epochs[1])


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"continual\.methods\[1\] = 'gem'"):
        build_continual({"methods": ["ewc", "gem"]})
    with pytest.raises(ConfigError, match=r"continual\.ebm\.image_weight"):
        build_continual({"ebm": {"image_weight": -1}})
    with pytest.raises(ConfigError, match=r"continual\.dataset"):
        build_continual({"dataset": "cifar10"})
    with pytest.raises(ConfigError, match=r"continual\.colour: unknown key"):
        build_continual({"colour": 1})


def test_stage_end_to_end_writes_the_table_curves_and_plot(tmp_path, monkeypatch):
    import yaml

    from stages import continual
    from stages.common.io import save_npz
    from stages.common.paths import PARAMS

    params = yaml.safe_load(PARAMS.read_text())  # the pipeline's own params, with a tiny continual section
    monkeypatch.chdir(tmp_path)
    x, y = load_digits()
    for split, sl in (("train", slice(0, 300)), ("test", slice(300, 400))):
        save_npz(tmp_path / "data" / "digits" / f"{split}.npz", x=x[sl], y=y[sl])
    (tmp_path / "data" / "digits" / "meta.json").write_text(json.dumps({"shape": [1, 8, 8], "n_classes": 10}))
    small = {**TINY, "n_seeds": 2, "methods": ["finetune", "ebm"]}  # merged in: params.yaml sets every key
    params["continual"].update({k: {**params["continual"].get(k, {}), **v} if isinstance(v, dict) else v
                                for k, v in small.items()})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    continual.main(None)
    table = json.loads((tmp_path / "metrics" / "continual.json").read_text())
    assert set(table["methods"]) == {"finetune", "ebm", "ebm_joint", "mlp_joint"}
    ebm = table["methods"]["ebm"]
    assert ebm["paper_mean"] == 64.99
    assert len(ebm["acc_matrix"]) == 5 and all(len(r) == 5 for r in ebm["acc_matrix"])
    assert ebm["dominant_error"] in ("old_as_new", "new_as_old", "within_task")
    total = ebm["acc_mean"] + ebm["err_old_as_new"] + ebm["err_new_as_old"] + ebm["err_within_task"]
    assert total == pytest.approx(100, abs=1e-6)
    assert len(table["methods"]["mlp_joint"]["acc_matrix"]) == 1
    assert 0 <= table["methods"]["finetune"]["acc_mean"] <= 100
    assert (tmp_path / "plots" / "continual" / "digits" / "ebm.csv").read_text().startswith("task,acc_mean,acc_std")
    assert (tmp_path / "plots" / "images" / "continual" / "digits" / "accuracy.png").stat().st_size > 1000
    assert (tmp_path / "plots" / "images" / "continual" / "digits" / "accuracy_matrix.png").stat().st_size > 1000
    params["continual"]["dataset"] = "mnist"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(Exception, match="continual.dataset = 'mnist': not in download.datasets"):
        continual.main(None)


def test_split_mnist_paper_config_resolves_and_every_method_steps_on_28x28(tmp_path):
    from configs.paper import load_config, merged_text
    from stages.common.params import load_params
    from stages.common.sections.full import SCHEMAS
    from stages.common.paths import PARAMS

    cfg = load_config("split_mnist")
    assert cfg["targets"] == ["continual"]
    (tmp_path / "params.yaml").write_text(merged_text(PARAMS.read_text(), cfg["params"]))
    s = load_params(*SCHEMAS, path=tmp_path / "params.yaml")["continual"]
    assert (s.common.dataset, s.common.n_seeds, s.common.hidden) == ("mnist", 10, (400, 400))
    torch.manual_seed(0)
    x, y = torch.rand(4, 784), torch.tensor([0, 1, 0, 1])
    for name in METHOD_NAMES:
        method = build_method(name, 784, 10, s)
        method.begin_task(0, (0, 1), (0, 1))
        stats = method.observe(x, y)
        assert all(np.isfinite(v) for v in stats.values()), name
        assert method.scores(x).shape == (4, 10)


def test_image_contrast_anchors_each_labels_energy_level():
    """The binary (NCE) image contrast is not blind to a constant added to one label's energies, as a softmax
    over images would be: it is lowest with the label's images below 0 and its negatives above 0, which is what
    puts labels trained in different tasks on one scale (docs/continual.md)."""
    e = torch.tensor([[-3.0, 3.0], [3.0, -3.0]])  # two images, their own label's energy low
    own = torch.eye(2, dtype=torch.bool)
    noise = torch.full((4, 2), 3.0)
    anchored = EnergyClassifier.image_contrast(e, own, noise)
    for shift in (-6.0, 6.0):
        moved = EnergyClassifier.image_contrast(e + torch.tensor([shift, 0.0]), own, noise + torch.tensor([shift, 0.0]))
        assert moved > anchored + 0.5  # shifting label 0's whole energy surface costs
    assert anchored < 0.2


def test_the_summary_splits_errors_by_task_and_averages_seeds():
    """ebm.continual.experiment.summarize on two hand-made seeds of two tasks: final accuracy mean/std,
    what is left of each task, and the errors across tasks (an old image given a new label)."""
    import numpy as np

    from ebm.continual import Result
    from ebm.continual.experiment import add_paper, summarize

    def seed(final):  # after task 2: task 1's images half called task 2 (old as new), task 2's all right
        return Result({"": [0.9, final]}, {"": [[0.9, 0.0], [0.5, 1.0]]}, {"": [[0.5, 0.5], [0.0, 1.0]]})

    rows = summarize([seed(0.70), seed(0.80)], np.array([100.0, 100.0]))
    s = rows[""]
    assert s["acc_mean"] == pytest.approx(75.0) and s["acc_std"] == pytest.approx(np.std([70, 80], ddof=1))
    assert s["final_task1"] == pytest.approx(50.0) and s["final_task2"] == pytest.approx(100.0)
    assert s["err_old_as_new"] == pytest.approx(25.0) and s["err_new_as_old"] == 0.0
    assert s["dominant_error"] == "old_as_new" and [p["task"] for p in s["curve"]] == [1, 2]
    table = {"ebm": dict(s), "mine": dict(s)}
    add_paper(table)
    assert table["ebm"]["paper_mean"] == 64.99 and "paper_mean" not in table["mine"]
