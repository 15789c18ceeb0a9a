"""One checkpoint format for every model the pipeline writes: ebm.checkpoint.pack / unpack."""

import pytest
import torch

from ebm.checkpoint import BUILDERS, pack, unpack
from ebm.registry import Registry


def test_every_model_kind_the_pipeline_writes_is_registered():
    import ebm.composition.judge  # noqa: F401  (registers where the networks are defined)
    import ebm.composition.toy2d  # noqa: F401
    import ebm.evaluation  # noqa: F401
    import ebm.models  # noqa: F401
    import ebm.trajectories.models  # noqa: F401

    assert {"energy", "classifier", "mlp_energy", "factor_judge", "toy_energy", "trajectory_model"} <= set(BUILDERS)


@pytest.mark.parametrize(("kind", "args", "x"), [
    ("energy", {"name": "digits_resnet", "in_channels": 1, "label_dim": 10, "image_size": 8}, torch.rand(2, 1, 8, 8)),
    ("mlp_energy", {"d_in": 16, "hidden": [8, 8], "label_dim": 3, "act": "swish", "spectral_norm": True}, torch.rand(2, 16)),
    ("trajectory_model", {"name": "fc", "dim": 5, "k": 2, "arch": {"hidden": [8, 8]}}, torch.rand(2, 10)),
])
def test_a_packed_model_comes_back_from_a_weights_only_file_with_the_same_outputs(kind, args, x, tmp_path):
    import ebm.models  # noqa: F401
    import ebm.trajectories.models  # noqa: F401

    torch.manual_seed(0)
    model = BUILDERS[kind](**args).eval()
    torch.save(pack(kind, args, model, step=7), tmp_path / "m.pt")
    ckpt = torch.load(tmp_path / "m.pt", weights_only=True)
    back = unpack(ckpt)
    y = torch.eye(3)[:2] if kind == "mlp_energy" else (torch.tensor([1, 2]) if kind == "energy" else None)
    with torch.no_grad():
        out = (model(x, y), back(x, y)) if y is not None else (model(x), back(x))
    assert ckpt["step"] == 7 and not back.training and torch.equal(*out)


def test_a_name_registers_once_and_an_unknown_name_is_named_with_the_known_ones():
    probes = Registry("probe")
    probes.register("a")(torch.nn.Identity)
    with pytest.raises(ValueError, match="probe 'a' registered twice"):
        probes.register("a")(torch.nn.Linear)
    with pytest.raises(KeyError, match="unknown probe 'b' \\(known: a\\)"):
        probes["b"]
    assert list(probes) == ["a"] and probes["a"] is torch.nn.Identity
    with pytest.raises(KeyError, match="no builder registered for checkpoint kind 'nope'"):
        pack("nope", {}, torch.nn.Identity())


def test_networks_trajectory_models_and_continual_methods_are_registries_of_every_name_the_params_allow():
    from ebm.continual import METHOD_NAMES, METHODS
    from ebm.models import NETWORKS
    from ebm.trajectories.models import TRAJECTORY_MODELS

    assert all(isinstance(r, Registry) for r in (BUILDERS, NETWORKS, TRAJECTORY_MODELS, METHODS))
    assert {"digits_resnet", "resnet32", "resnet32_large", "resnet32_wider", "resnet128", "mnist", "mlp"} == set(NETWORKS)
    assert list(TRAJECTORY_MODELS) == ["ebm_cond", "ebm_uncond", "fc", "lstm"]
    assert set(METHODS) == set(METHOD_NAMES)  # METHOD_NAMES: Table 1's row order
