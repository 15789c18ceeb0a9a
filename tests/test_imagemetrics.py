"""FID / IS / KID code on a small feature network, the original's sampling protocol, the Inception weights."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from ebm.config import ConfigError
from ebm.evaluation import frechet_distance
from ebm.imagemetrics import ScoreConfig, extract, image_scores, protocol_samples
from ebm.models import build_energy
from ebm.sampling import LangevinConfig, PersistentConfig
from stages.common.fid import inception_network
from stages.common.sections.fid import check_fid
from stages.common.io import UserError
from tests.tiny_params import tiny

ROOT = Path(__file__).resolve().parents[1]


class SmallFeatures(nn.Module):
    """uint8 [B, 3, H, W] -> (features [B, 16], logits [B, 10]): a fixed random conv net."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv, self.fc = nn.Conv2d(3, 16, 3), nn.Linear(16, 10)

    def forward(self, x):
        f = torch.tanh(self.conv(x.float() / 255)).mean((2, 3))
        return f, self.fc(f)


def images(n, lo, hi, seed):
    return torch.randint(lo, hi, (n, 3, 8, 8), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


CFG = ScoreConfig(batch_size=64, is_splits=2, kid_subsets=20, kid_subset_size=100)


def test_fid_and_kid_are_near_zero_for_one_distribution_and_grow_with_a_shift():
    net = SmallFeatures()
    real, _ = extract(net, images(400, 0, 256, 0), 64, torch.device("cpu"))
    same, same_logits = extract(net, images(400, 0, 256, 1), 64, torch.device("cpu"))
    dark, dark_logits = extract(net, images(400, 0, 128, 2), 64, torch.device("cpu"))
    s_same, s_dark = image_scores(real, same, same_logits, CFG), image_scores(real, dark, dark_logits, CFG)
    assert s_dark["fid"] > 20 * s_same["fid"] and s_dark["kid_mean"] > 20 * abs(s_same["kid_mean"])
    assert s_same["fid"] == pytest.approx(frechet_distance(real.numpy(), same.numpy()), rel=1e-4)  # scipy's
    assert s_dark["fid"] == pytest.approx(frechet_distance(real.numpy(), dark.numpy()), rel=1e-4)


def test_inception_score_is_1_for_one_class_and_k_for_k_confident_even_classes():
    f = torch.randn(200, 16, dtype=torch.float64)
    one = torch.zeros(200, 10, dtype=torch.float64)
    one[:, 3] = 50.0
    even = torch.zeros(200, 10, dtype=torch.float64)
    even[torch.arange(200), torch.arange(200) % 10] = 50.0
    assert image_scores(f, f, one, CFG)["is_mean"] == pytest.approx(1.0, abs=1e-6)
    assert image_scores(f, f, even, CFG)["is_mean"] == pytest.approx(10.0, rel=0.05)  # random splits: near 10


def test_grayscale_images_are_given_three_channels():
    f, logits = extract(SmallFeatures(), images(5, 0, 256, 0)[:, :1], 2, torch.device("cpu"))
    assert f.shape == (5, 16) and logits.shape == (5, 10) and f.dtype == torch.float64


def test_protocol_makes_n_images_in_blocks_of_persistent_chains_deterministically():
    torch.manual_seed(0)
    model = build_energy("digits_resnet", 1, 10).eval()
    cfg = PersistentConfig(n_chains=4, rounds=3, reset_prob=0.5, relabel_prob=0.0, settle_rounds=1)

    def run():
        gen = torch.Generator().manual_seed(1)
        done = []
        x, y = protocol_samples([model], lambda n: torch.rand((n, 1, 8, 8), generator=gen), 10, 10,
                                LangevinConfig(n_steps=2), cfg, gen, progress=done.append)
        return x, y, done

    x, y, done = run()
    assert x.shape == (10, 1, 8, 8) and x.dtype == torch.uint8 and done == [4, 4, 2]  # 3 blocks, the last cut
    assert y.shape == (10,) and 0 <= y.min() and y.max() < 10
    x2, y2, _ = run()
    assert torch.equal(x, x2) and torch.equal(y, y2)


def test_fid_params_check_datasets_and_model_names():
    assert check_fid({"variants": {}}, "fid.")[0] == {}
    with pytest.raises(ConfigError, match="fid.variants.v = 'svhn': unknown dataset"):
        check_fid({"variants": {"v": "svhn"}}, "fid.")
    with pytest.raises(ConfigError, match=r"fid.models\[0\] = 'best': unknown value"):
        check_fid({"models": ["best"]}, "fid.")


def random_inception_file(path: Path) -> Path:
    """A weights file in torch-fidelity's format (random values: no network here to fetch the real one)."""
    from torch_fidelity import feature_extractor_inceptionv3 as fe

    real_load, real_fetch = fe.FeatureExtractorInceptionV3.load_state_dict, fe.load_state_dict_from_url
    fe.FeatureExtractorInceptionV3.load_state_dict, fe.load_state_dict_from_url = lambda *a, **k: None, lambda *a, **k: {}
    try:
        net = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    finally:
        fe.FeatureExtractorInceptionV3.load_state_dict, fe.load_state_dict_from_url = real_load, real_fetch
    for m in net.modules():  # variance-keeping init, so that random pool_3 features do not vanish to ~0
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    torch.save(net.state_dict(), path)
    return path


def test_inception_from_a_local_file_gives_pool3_features_and_logits(tmp_path):
    net = inception_network(str(random_inception_file(tmp_path / "w.pth")))
    f, logits = net(images(2, 0, 256, 0).repeat(1, 1, 4, 4))
    assert f.shape == (2, 2048) and logits.shape == (2, 1008)


def test_inception_weights_missing_file_or_network_fail_with_one_line(tmp_path, monkeypatch):
    with pytest.raises(UserError, match="fid.inception_weights = '.*nope.pth': no such file"):
        inception_network(str(tmp_path / "nope.pth"))
    (tmp_path / "bad.pth").write_bytes(b"junk")
    with pytest.raises(UserError, match="bad.pth: refused as Inception weights"):  # checked before torch-fidelity unpickles
        inception_network(str(tmp_path / "bad.pth"))
    from torch_fidelity import feature_extractor_inceptionv3 as fe

    def offline(*a, **k):
        raise OSError("Name or service not known")

    monkeypatch.setattr(fe, "load_state_dict_from_url", offline)
    with pytest.raises(UserError, match="Inception weights: fetching .* failed") as e:
        inception_network("")
    assert "\n" not in str(e.value) and "fid.inception_weights" in str(e.value)


@pytest.mark.slow  # trains a tiny model, then Inception (random weights) on ~100 images upsampled to 299
def test_the_fid_stage_scores_single_and_ensemble_samples(tmp_path):
    params = tiny(yaml.safe_load((ROOT / "params.yaml").read_text()))
    params["fid"].update(variants={"digits_uncond": "digits"}, inception_weights=str(random_inception_file(tmp_path / "w.pth")),
                         n_images=12, n_reference=40, n_chains=6, rounds=2, settle_rounds=1, n_steps=2,
                         batch_size=20, is_splits=2, kid_subsets=5, kid_subset_size=10)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"}
    for args in (["download", "--dataset", "digits"], ["train", "--variant", "digits_uncond"],
                 ["fid", "--variant", "digits_uncond"]):
        r = subprocess.run([sys.executable, "-m", f"stages.{args[0]}", *args[1:]], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((tmp_path / "metrics/fid/digits_uncond.json").read_text())
    assert m["n_images"] == 12 and m["n_reference"] == 40
    for name in ("single", "ensemble"):
        assert {"fid", "is_mean", "is_std", "kid_mean", "kid_std"} <= set(m[name]) and m[name]["fid"] > 1e-3
        assert m[name]["is_mean"] >= 1.0  # (the random network's logits barely vary: IS ~1 here)
    s = np.load(tmp_path / "data/fid_samples/digits_uncond/samples.npz")
    assert s["single"].shape == (12, 1, 8, 8) and s["single"].dtype == np.uint8
    assert (tmp_path / "plots/images/fid/digits_uncond/ensemble.png").stat().st_size > 0
    assert "FID" in r.stdout
