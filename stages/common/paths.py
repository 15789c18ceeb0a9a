"""Every path the stages read or write; dvc.yaml wires the same ones."""

from __future__ import annotations

from pathlib import Path

PARAMS = Path("params.yaml")
DATA = Path("data")
MODELS = Path("models")
METRICS = Path("metrics")
PLOTS = Path("plots")


def dataset_dir(name: str) -> Path:
    return DATA / name


def model_dir(variant: str) -> Path:
    return MODELS / variant


def history_dir(variant: str) -> Path:
    return MODELS / variant / "history"


def classifier_dir() -> Path:
    return MODELS / "classifier"


def samples_dir(variant: str) -> Path:
    return DATA / "samples" / variant


def metrics_file(stage: str, variant: str | None = None) -> Path:
    return METRICS / stage / f"{variant}.json" if variant else METRICS / f"{stage}.json"


def curve_file(stage: str, variant: str) -> Path:
    return PLOTS / stage / f"{variant}.csv"


def images_dir(stage: str, variant: str) -> Path:
    return PLOTS / "images" / stage / variant


def curves_dir(stage: str, variant: str) -> Path:
    """Several CSV curves of one stage execution (e.g. one per OOD set)."""
    return PLOTS / stage / variant


def fid_samples_dir(variant: str) -> Path:
    """The fid stage's samples (the original's protocol, 50,000 at paper scale)."""
    return DATA / "fid_samples" / variant


def raw_dir(name: str) -> Path:
    """torchvision's own files of a dataset (downloaded there, or put there by hand)."""
    return DATA / ".raw" / name


def dsprites_file() -> Path:
    """The dSprites arrays of the pipeline, in the real file's layout (see ebm.composition.dsprites)."""
    return DATA / "dsprites" / "dsprites.npz"


def composition_model(name: str) -> Path:
    """A model of the composition experiments: factor EBMs (factor_<f>), the judge, the toy EBMs."""
    return MODELS / "composition" / name


def trajectories_dir() -> Path:
    """The record stage's hand trajectories (trajectories.npz, meta.json)."""
    return DATA / "trajectories"


def trajectory_model(name: str) -> Path:
    """A hand-trajectory model: ebm_cond, ebm_uncond, fc, lstm."""
    return MODELS / "trajectories" / name
