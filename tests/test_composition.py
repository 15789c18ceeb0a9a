"""Compositional generation: the sum-of-energies sampler, the 2-D toy, dSprites (renderer,
real-file loader), the factor judge, the cross-product split and the generator baseline."""

import numpy as np
import pytest
import torch

from ebm.composition import toy2d
from ebm.composition.compose import compose_langevin
from ebm.composition.crossproduct import CENTRE, SumEnergy, balanced, split_combos
from ebm.composition.dsprites import (
    SIZES, class_values, codes, factor_labels, from_arrays, grid_classes, render, select_classes, to_arrays,
)
from ebm.composition.generator_baseline import CondGenerator, generate, train_generator
from ebm.composition.judge import FactorJudge, JudgeTolerance, factor_hits, read_factors, shows_all
from ebm.sampling import LangevinConfig, langevin_step


def quadratic(centre, std):
    c = torch.tensor(centre)
    return lambda x: ((x - c) ** 2).sum(1) / (2 * std**2)


@pytest.mark.parametrize("scheme", ["sum", "alternate"])
def test_sum_sampler_samples_the_product_of_two_gaussians(scheme):
    # exp(-E1) exp(-E2) with E_i = |x - c_i|^2 / (2 s_i^2) is a Gaussian with a known mean and variance;
    # a sampler that followed only one of the two gradients would land on c_1 or c_2 instead.
    torch.manual_seed(0)
    e1, e2 = quadratic([1.0, 0.0], 0.5), quadratic([-1.0, 2.0], 1.0)
    prec = 1 / 0.5**2 + 1 / 1.0**2
    mean = (torch.tensor([1.0, 0.0]) / 0.5**2 + torch.tensor([-1.0, 2.0]) / 1.0**2) / prec
    cfg = LangevinConfig(n_steps=400, step_size=0.01, form="textbook", clamp=False)
    x = compose_langevin([e1, e2], torch.zeros(4000, 2), cfg, scheme)
    assert torch.allclose(x.mean(0), mean, atol=0.05), (x.mean(0), mean)
    # alternate: every sub-step adds its own noise (as the original), so two models double the
    # temperature: same mean, twice the variance
    temperature = 2 if scheme == "alternate" else 1
    assert torch.allclose(x.var(0), torch.full((2,), temperature / prec), rtol=0.15), x.var(0)


def test_sum_step_follows_both_gradients_and_alternate_takes_one_substep_each():
    cfg = LangevinConfig(n_steps=1, step_size=0.1, noise_std=0.0, grad_clip=0.0, clamp=False)
    e1, e2 = quadratic([1.0, 0.0], 1.0), quadratic([0.0, 1.0], 1.0)
    x0 = torch.tensor([[0.5, 0.5]])
    summed = compose_langevin([e1, e2], x0, cfg, "sum")
    grad = (x0 - torch.tensor([1.0, 0.0])) + (x0 - torch.tensor([0.0, 1.0]))
    assert torch.allclose(summed, x0 - 0.1 * grad)
    alternate = compose_langevin([e1, e2], x0, cfg, "alternate")
    assert torch.allclose(alternate, langevin_step(e2, langevin_step(e1, x0, cfg), cfg))
    with pytest.raises(ValueError, match="scheme"):
        compose_langevin([e1], x0, cfg, "product")


def test_toy_supports_cross_only_where_both_densities_live():
    torch.manual_seed(0)
    ring, band = toy2d.sample("ring", 5000), toy2d.sample("band", 5000)
    assert toy2d.support_shares(ring)["in_ring"] > 0.99 and toy2d.support_shares(band)["in_band"] > 0.99
    assert 0.15 < toy2d.support_shares(ring)["in_both"] < 0.5  # either density alone: a minority in both
    assert 0.1 < toy2d.support_shares(band)["in_both"] < 0.5
    crossing = torch.tensor([[0.5 + (0.3**2 - 0.2**2) ** 0.5, 0.7]])  # on the ring, on the band's centre line
    assert toy2d.support_shares(crossing)["in_both"] == 1.0
    assert toy2d.ToyEnergy()(torch.rand(7, 2)).shape == (7,)


def test_grid_is_in_the_real_files_order_and_selection_keeps_the_slice():
    grid = grid_classes()
    assert grid.shape == (3 * 6 * 40 * 32 * 32, 5)
    assert np.array_equal(codes(grid[:1000]), np.arange(1000))
    sel = select_classes(100, keep_orientation=15, generator=torch.Generator().manual_seed(0))
    assert (sel[:, 2] == 15).sum() >= 3 * 6 * 32 * 32
    assert np.all(np.diff(codes(sel)) > 0)  # unique and sorted


def centroid(img):
    img = img[0].float()
    xs = torch.arange(img.shape[-1]).float()
    return (img.sum(0) * xs).sum() / img.sum(), (img.sum(1) * xs).sum() / img.sum()


def test_renderer_follows_every_factor():
    cls = torch.tensor([[0, 0, 0, 16, 16], [0, 5, 0, 16, 16], [0, 5, 0, 0, 16], [0, 5, 0, 31, 16], [0, 5, 0, 16, 31],
                        [0, 5, 5, 16, 16], [1, 5, 0, 16, 16], [1, 5, 20, 16, 16], [2, 5, 0, 16, 16], [2, 5, 20, 16, 16]])
    img = render(class_values(cls), 32)
    assert img.dtype == torch.uint8 and img.shape == (10, 1, 32, 32)
    assert img[1].float().sum() > 3 * img[0].float().sum()  # scale 1 vs 0.5: area x 4
    assert centroid(img[2])[0] < 12 < 20 < centroid(img[3])[0]  # posX moves right
    assert centroid(img[4])[1] > 20  # posY moves down
    assert not torch.equal(img[1], img[5])  # a rotated square differs
    assert torch.equal(img[6], img[7]) or (img[6].float() - img[7].float()).abs().mean() < 2  # ellipse: 180° symmetric
    assert (img[8].float() - img[9].float()).abs().mean() > 10  # heart: not symmetric under 180°
    assert not torch.equal(img[1], img[6]) and not torch.equal(img[1], img[8])  # shapes differ


def tiny_real_file(path, n=6, side=64):
    """A file in the real dSprites layout: binary imgs, latents over (color, shape, ...), pickled metadata."""
    rng = np.random.default_rng(0)
    classes = np.stack([rng.integers(0, s, n) for s in SIZES], axis=1)
    classes[0] = [0, 0, 15, 3, 4]
    imgs = (rng.random((n, side, side)) < 0.3).astype(np.uint8)
    lc = np.concatenate([np.zeros((n, 1), np.int64), classes], axis=1)
    lv = np.concatenate([np.ones((n, 1)), class_values(torch.from_numpy(classes)).numpy()], axis=1)
    lv[:, 1] += 1  # the real file's shape values are 1..3
    metadata = np.array({"description": "dSprites"}, dtype=object)
    np.savez(path, imgs=imgs, latents_values=lv, latents_classes=lc, metadata=metadata)
    return imgs, classes


def test_real_file_loader_reads_the_real_layout_and_downsamples(tmp_path):
    from stages.common.dsprites_arrays import real_arrays

    name = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
    imgs, classes = tiny_real_file(tmp_path / name)
    arrays = real_arrays(f"https://example.invalid/{name}", tmp_path)  # present: no download
    data = from_arrays(arrays, 16)
    assert data.images.shape == (6, 1, 16, 16) and data.images.dtype == torch.uint8
    block = imgs[0, :4, :4].mean() * 255  # a 4x4 area average of the binary image
    assert abs(int(data.images[0, 0, 0, 0]) - block) <= 1
    assert torch.equal(data.classes, torch.from_numpy(classes))
    picked = from_arrays(arrays, 16, torch.from_numpy(classes[[3, 0]]))
    assert torch.equal(picked.images[1], data.images[0])
    with pytest.raises(ValueError, match="combination"):
        from_arrays(arrays, 16, torch.tensor([[2, 5, 39, 31, 31]]))
    with pytest.raises(ValueError, match="does not divide"):
        from_arrays(arrays, 24)
    again = from_arrays(to_arrays(data), 16)  # the pipeline's own file: same layout, 0..255
    assert torch.equal(again.images, data.images) and torch.equal(again.classes, data.classes)


def test_real_file_download_failure_is_one_line(tmp_path):
    from stages.common.io import UserError
    from stages.common.dsprites_arrays import real_arrays

    with pytest.raises(UserError, match="dsprites.url: download failed"):
        real_arrays((tmp_path / "nowhere" / "x.npz").as_uri(), tmp_path / "raw")
    (tmp_path / "raw" / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="corrupt dSprites file"):
        real_arrays("https://example.invalid/bad.npz", tmp_path / "raw")


def test_factor_labels_are_the_originals_conditioning():
    v = class_values(torch.tensor([[2, 0, 10, 31, 0]]))
    assert torch.allclose(factor_labels(v, "size"), torch.tensor([[0.5]]))
    assert torch.equal(factor_labels(v, "shape"), torch.tensor([[0.0, 0.0, 1.0]]))
    assert torch.allclose(factor_labels(v, "position"), torch.tensor([[1.0, 0.0]]))
    assert torch.allclose(factor_labels(v, "rotation").norm(dim=1), torch.ones(1))


def test_judge_hits_respect_tolerances_and_rotation_modulo_the_shapes_symmetry():
    cls = torch.tensor([[0, 2, 0, 10, 10], [1, 3, 10, 20, 5]])
    val = class_values(cls)
    read = {"shape": torch.tensor([0, 2]), "size": torch.tensor([3, 5]),
            "position": val[:, 3:5] + torch.tensor([[0.05, 0.0], [0.0, 0.3]]),
            # a square read 90° off is the same square; a heart (read, k = 1) 180° off is upside down
            "rotation": torch.tensor([4.0, 1.0]) * val[:, 2] + torch.tensor([2 * torch.pi, torch.pi])}
    hits = factor_hits(read, cls, val, JudgeTolerance(size_tol=1, position_tol=0.1, rotation_tol_deg=15))
    assert hits["shape"].tolist() == [True, False]
    assert hits["size"].tolist() == [True, False]
    assert hits["position"].tolist() == [True, False]
    assert hits["rotation"].tolist() == [True, False]
    assert shows_all(hits, ("size", "position")).tolist() == [True, False]
    out = read_factors(FactorJudge(16, (32,)), torch.rand(3, 1, 16, 16))
    assert out["shape"].shape == (3,) and out["position"].shape == (3, 2) and out["rotation"].shape == (3,)
    # an ellipse read 90° off fails (its symmetry is 180°), 180° off passes
    ell = {"shape": torch.tensor([1, 1]), "size": torch.tensor([2, 2]), "position": val[:1, 3:5].repeat(2, 1),
           "rotation": 2 * val[0, 2] + torch.tensor([torch.pi, 2 * torch.pi])}
    hits = factor_hits(ell, cls[:1].repeat(2, 1), val[:1].repeat(2, 1), JudgeTolerance(rotation_tol_deg=15))
    assert hits["rotation"].tolist() == [False, True]


def test_crossproduct_split_never_shows_a_test_pair_in_training():
    train, test = split_combos("size_position", orientation=15)
    assert len(train) == 6 + 1023 and len(test) == 5 * 1023
    assert not set(codes(train)) & set(codes(test))
    at_centre = (train[:, 3] == CENTRE) & (train[:, 4] == CENTRE)
    assert train[at_centre, 1].tolist() == list(range(6))  # every scale, at the centre only
    assert (train[~at_centre, 1] == 0).all() and (test[:, 1] != 0).all()
    assert ((test[:, 3] != CENTRE) | (test[:, 4] != CENTRE)).all()
    assert (train[:, 0] == 0).all() and (train[:, 2] == 15).all()
    s_train, s_test = split_combos("shape_position", orientation=15, shape_scale=5)
    assert len(s_train) == 3 + 1023 and (s_test[:, 0] != 0).all() and (s_test[:, 1] == 5).all()
    idx = balanced(6, 1023)
    assert (idx < 6).sum() == 6 * (1023 // 6) and (idx >= 6).sum() == 1023


def test_sum_energy_adds_the_parts_with_their_own_labels():
    a = lambda x, y: y[:, 0] * x.flatten(1).sum(1)  # noqa: E731
    b = lambda x, y: y[:, 1] - y[:, 0]  # noqa: E731

    class Wrap(torch.nn.Module):
        def __init__(self, f):
            super().__init__()
            self.f = f

        def forward(self, x, y):
            return self.f(x, y)

    model = SumEnergy([Wrap(a), Wrap(b)], [1, 2])
    x, y = torch.ones(2, 1, 2, 2), torch.tensor([[2.0, 3.0, 5.0], [1.0, 0.0, 1.0]])
    assert torch.allclose(model(x, y), torch.tensor([8.0 + 2.0, 4.0 + 1.0]))


def test_generator_baseline_learns_its_training_pairs():
    torch.manual_seed(0)
    y = torch.rand(32, 3)
    x = y[:, :1, None, None] * torch.linspace(0, 1, 64).view(1, 1, 8, 8)  # an image drawn from its label
    g = CondGenerator(3, 4, 8, (64,))
    losses = list(train_generator(g, y, x, steps=300, batch_size=32, lr=3e-3))
    assert np.mean(losses[-20:]) < 0.1 * losses[0]
    assert generate(g, y).shape == (32, 1, 8, 8)


def test_bad_params_and_missing_files_give_one_line_errors(tmp_path, monkeypatch):
    from ebm.config import ConfigError
    from stages.common.composition import load_dsprites
    from stages.common.sections.composition import SECTIONS
    from stages.common.io import UserError

    with pytest.raises(ConfigError, match=r"compose.combos\[0\]\[1\] = 'colour': unknown factor"):
        SECTIONS["compose"]({"combos": [["size", "colour"]]}, "compose.")
    with pytest.raises(ConfigError, match=r"crossproduct.seen\[0\] = 1.5"):
        SECTIONS["crossproduct"]({"seen": [1.5]}, "crossproduct.")
    with pytest.raises(ConfigError, match="dsprites.source = 'web'"):
        SECTIONS["dsprites"]({"source": "web"}, "dsprites.")
    with pytest.raises(ConfigError, match="factors.step_sizes: unknown key"):
        SECTIONS["factors"]({"step_sizes": 1}, "factors.")
    with pytest.raises(ConfigError, match=r"factors.per_factor\[0\] = 'colour': unknown factor"):
        SECTIONS["factors"]({"per_factor": {"colour": {"n_iters": 5}}}, "factors.")
    with pytest.raises(ConfigError, match="factors.per_factor.shape.names: not a setting of one factor's model"):
        SECTIONS["factors"]({"per_factor": {"shape": {"names": ["shape"]}}}, "factors.")
    with pytest.raises(ConfigError, match=r"factors.per_factor.shape.n_iters = 0: must be > 0"):
        SECTIONS["factors"]({"per_factor": {"shape": {"n_iters": 0}}}, "factors.")
    section = SECTIONS["factors"]({"n_iters": 7, "per_factor": {"shape": {"n_iters": 9, "spectral_norm": True}}},
                                  "factors.")
    net, train, _ = section.of("shape")
    assert (train.n_iters, net.spectral_norm) == (9, True)  # the override, and the shared rest
    assert section.of("size")[1].n_iters == 7 and not section.of("size")[0].spectral_norm
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=r"data/dsprites/dsprites.npz: missing .* run `dvc repro dsprites`"):
        load_dsprites()
    (tmp_path / "data" / "dsprites").mkdir(parents=True)
    (tmp_path / "data" / "dsprites" / "dsprites.npz").write_bytes(b"truncated")
    with pytest.raises(UserError, match="corrupt dSprites arrays"):
        load_dsprites()


def test_gentest_names_a_missing_combination_as_its_own_error():
    """The stage turns this one error into `data/dsprites: ...; rerun dvc repro dsprites`, not any ValueError."""
    from types import SimpleNamespace

    import numpy as np

    from ebm.composition.gentest import MissingCombinations, images_of

    have = np.array([[0, 0, 15, 16, 16], [0, 1, 15, 16, 16]])
    data = SimpleNamespace(classes=have, images=torch.zeros(2, 1, 4, 4, dtype=torch.uint8), values=torch.zeros(2, 5))
    x, v = images_of(data, have[1:])
    assert x.shape == (1, 1, 4, 4) and x.dtype == torch.float32
    with pytest.raises(MissingCombinations):
        images_of(data, np.array([[2, 5, 15, 0, 0]]))


def test_the_figure15_protocol_scores_every_scheme_combination_and_factor_alone():
    """ebm.composition.figure15.run with an untrained judge and two toy factor energies: every (scheme,
    combination) sampled from the shared start, shares in [0, 1], the true images scored as ``score`` does."""
    from ebm.composition.compose import ComposeConfig
    from ebm.composition.figure15 import run, score

    class Pull(torch.nn.Module):  # E(x | c) = |x - mean of c|^2: any label shape
        def forward(self, x, c):
            return ((x.flatten(1) - c.mean(1, keepdim=True)) ** 2).sum(1)

    torch.manual_seed(0)
    n = 6
    classes = torch.stack([torch.randint(0, 3, (n,)), torch.randint(0, 6, (n,))], 1)
    values = torch.cat([classes[:, :1].float(), 0.5 + 0.1 * classes[:, 1:2].float(), torch.rand(n, 3)], 1)
    x_true, judge = torch.rand(n, 1, 16, 16), FactorJudge(16).eval()
    cfg = ComposeConfig(combos=(("size", "position"),), schemes=("sum", "alternate"), n_samples=n, n_show=2)
    lcfg = LangevinConfig(n_steps=3, step_size=0.1, noise_std=0.0, grad_clip=0.0, clamp=True)
    out = run({"size": Pull(), "position": Pull()}, judge, x_true, classes, values, torch.randperm(n),
              torch.rand(n, 1, 16, 16), cfg, JudgeTolerance(), lcfg, torch.Generator().manual_seed(0))
    assert set(out.samples) == {("sum", ("size", "position")), ("alternate", ("size", "position"))}
    assert out.samples["sum", ("size", "position")].shape == (n, 1, 16, 16)
    assert set(out.metrics["own_factor"]) == {"size", "position"}
    assert out.metrics["ground_truth"]["size_position"] == score(judge, x_true, classes, values, ("size", "position"),
                                                                 JudgeTolerance())
    assert all(0 <= v <= 1 for s in ("sum", "alternate") for v in out.metrics[s]["size_position"].values())
    assert set(out.metrics["headline"]) == {"sum_size_position_all", "alternate_size_position_all"}


def test_toy2d_samples_each_energy_and_their_sum_from_one_start():
    from ebm.composition.toy2d import sample_each_and_sum

    torch.manual_seed(0)

    class Well(torch.nn.Module):  # E = |x - centre|^2
        def __init__(self, centre):
            super().__init__()
            self.centre = torch.tensor(centre)

        def forward(self, x):
            return ((x - self.centre) ** 2).sum(1)

    x0 = torch.rand(50, 2)
    cfg = LangevinConfig(n_steps=5, step_size=0.1, noise_std=0.0, grad_clip=0.0, clamp=True)
    samples, shares, traces = sample_each_and_sum({"ring": Well([0.2, 0.7]), "band": Well([0.8, 0.7])}, x0, cfg,
                                                  "sum", n_steps=40, n_traces=3)
    assert set(samples) == {"ring", "band", "ring_and_band"} and set(shares) == {*samples, "data"}
    assert traces.shape == (41, 3, 2) and torch.equal(traces[0], x0[:3])
    torch.testing.assert_close(samples["ring_and_band"].mean(0), torch.tensor([0.5, 0.7]), atol=0.05, rtol=0)
    assert shares["data"]["in_ring"] > 0.4 and 0 <= shares["ring"]["in_both"] <= 1
