"""params.yaml -> typed configs, validated before any work.

Each top-level section has a checker in a schema module (``stages/common/sections``, and the
composition, fid, trajectories and continual modules; ``sections.full`` lists them all). A
stage passes the schema modules of the sections it reads, so a bad value stops it with one
line naming the key, and its code (its DVC deps) holds no other experiment's schema. Every
stage refuses a section whose name is unknown; a bad value in another stage's section is
that stage's error.

Every key of a section must be set, except the few in ``OPTIONAL`` (expert knobs whose library
default is what the pipeline runs): deleting a key from params.yaml is an error naming it, never a
silent switch to a library default (those are often the paper-scale values).

Settings several sections share are written once (``SHARED``): the device settings in ``device``, a
chain's step, noise and clip in the section that trains the model the chains sample (``train`` for the
digits models' test-time stages, ``factors`` for the dSprites ones). A section that leaves such a key
out reads it from there; one that sets it keeps its own (``dvc exp run -S ++sample.step_size=5``: the
``++`` sets a key the file may not hold).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from ebm.config import ConfigError, as_mapping, required_keys
from stages.common.io import UserError
from stages.common.paths import PARAMS

Checker = Callable[[Any, str], Any]  # (the section's raw value, "section.") -> its typed config

# Every section params.yaml may hold, in the order they are checked (tests/test_params.py checks
# that it matches the schema modules).
KNOWN = ("seed", "download", "device", "classifier", "train", "variants", "sample", "evaluate", "fid", "restore",
         "crossclass", "ood", "robustness", "toy2d", "dsprites", "factor_judge", "factors", "compose",
         "crossproduct", "continual", "record", "trajectory")

# Groups of keys params.yaml may leave out, with what their library defaults (which then run) are:
_LANGEVIN = ("form", "clamp")  # decoupled steps, clamped to [0, 1]: the original's sampler on images
_OPTIM = ("beta1", "beta2", "l2_coeff", "lr_floor", "lr_cycles")  # Adam (0, 0.999), the L2 penalty 1, one anneal to ~0
_HISTORY = ("history_every", "history_size")  # checkpoint history: only the image EBMs keep one (their params set it)
_NO_LABEL = ("label_contrast", "label_temperature")  # Algorithm 1 alone, no label contrast
_GUARD = ("energy_bound", "max_rollbacks", "lr_decay", "snapshot_every")  # the divergence guard's thresholds
OPTIONAL = {  # "section." -> the keys params.yaml may leave out; every other key is required
    "download.": ("imagenet32_path", "imagenet128_path", "imagenet128_per_class"),  # paper scale: user paths
    "train.": (*_NO_LABEL, "lr_cycles"),  # one anneal (restarts measured worse: docs/generation.md)
    **{f"{s}.": _LANGEVIN for s in ("sample", "fid", "restore", "crossclass", "robustness", "compose")},
    "toy2d.": (*_OPTIM, *_HISTORY, "lr_anneal_from", *_NO_LABEL, "form"),
    "factors.": (*_OPTIM, *_HISTORY, *_LANGEVIN),
    "crossproduct.": (*_OPTIM, *_HISTORY, "lr_anneal_from", *_NO_LABEL, *_LANGEVIN),
    "trajectory.ebm_cond.": (*_HISTORY, "lr_floor", "lr_cycles", *_NO_LABEL, "start_scale", "noise_share", *_GUARD),
    "trajectory.ebm_uncond.": (*_HISTORY, "lr_floor", "lr_cycles", *_NO_LABEL, "memory_frames", "memory_reach", "space",
                               "start_scale", *_GUARD),
}

_CHAIN = ("step_size", "noise_std", "grad_clip")  # a chain's temperature: that of the chains the model trained with
_ACCEL = ("device", "amp", "channels_last", "compile")  # ebm.accel.AccelConfig (tests check the names)
SHARED = (  # (section, the section it reads the keys it leaves out from, those keys)
    ("train", "device", (*_ACCEL, "backend")),
    ("sample", "device", _ACCEL), ("sample", "train", _CHAIN),
    ("fid", "device", _ACCEL), ("fid", "train", _CHAIN),
    ("restore", "device", ("device",)), ("restore", "train", _CHAIN),
    ("crossclass", "device", ("device",)), ("crossclass", "train", _CHAIN),
    ("ood", "device", ("device",)),
    ("robustness", "device", ("device",)), ("robustness", "train", _CHAIN),
    ("compose", "factors", _CHAIN),
    ("crossproduct", "factors", ("n_steps", *_CHAIN)),  # it fine-tunes the factor models with their own chain
)

SEED_MAX = 2**32 - 1  # numpy's limit; torch takes 64 bits, but seeds are offset and multiplied (batch_at, rank_seed)


def check_seed(v, p):
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= SEED_MAX:
        raise ConfigError(f"seed = {v!r:.40}: expected an integer in [0, {SEED_MAX}]")
    return v


def read_params(path: Path = PARAMS) -> dict:
    """The raw mapping of params.yaml; raises UserError with one line."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: missing; the pipeline's params file must exist") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        why = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise UserError(f"{path}: not valid YAML{where} ({why})") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of sections")
    unknown = sorted(set(raw) - set(KNOWN))
    if unknown:
        raise UserError(f"{path}: {unknown[0]}: unknown section (allowed: {', '.join(KNOWN)})")
    return raw


def load_params(*schemas: Mapping[str, Checker], path: Path = PARAMS) -> dict[str, Any]:
    """``seed`` and the sections of ``schemas`` (each a section name -> checker mapping), validated,
    plus ``_raw`` (the whole file as read, the shared keys filled in: what the stages log); raises
    UserError with one line."""
    path = Path(path)
    raw = read_params(path)
    try:
        return {"_raw": with_shared(raw)[0], **check_sections(raw, *schemas)}
    except ConfigError as e:
        raise UserError(f"{path}: {e}") from None


def _section(raw: Mapping, dotted: str) -> Any:
    for part in dotted.split("."):
        raw = raw.get(part) if isinstance(raw, Mapping) else None
    return raw


def with_shared(raw: Mapping[str, Any]) -> tuple[dict, dict[str, str]]:
    """(a copy of ``raw`` whose sections hold the ``SHARED`` keys they leave out, {"section.key": the key
    it reads, for each of those}). A section or its source that is not a mapping is left to its checker."""
    filled, origin = copy.deepcopy(dict(raw)), {}
    for name, source, keys in SHARED:
        section, src = _section(filled, name), _section(filled, source)
        if not isinstance(section, dict) or not isinstance(src, Mapping):
            continue
        for key in keys:
            if key not in section:
                origin[f"{name}.{key}"] = f"{source}.{key}"
                if key in src:
                    section[key] = src[key]
    return filled, origin


def check_sections(raw: Mapping[str, Any], *schemas: Mapping[str, Checker]) -> dict[str, Any]:
    """The typed configs of ``seed`` and the sections of ``schemas``; raises ConfigError naming the key (a
    shared key by where it is written: ``train.step_size``, not the ``sample.step_size`` read from it)."""
    checkers: dict[str, Checker] = {"seed": check_seed}
    for schema in schemas:
        checkers.update(schema)
    raw, origin = with_shared(raw)
    out = {}
    with required_keys(OPTIONAL):
        for name in KNOWN:
            if name not in checkers:
                continue
            try:
                if name == "seed":
                    out[name] = check_seed(raw.get(name, 0), f"{name}.")
                else:  # every other section is a mapping; refused here once rather than in each checker
                    out[name] = checkers[name](as_mapping(raw.get(name), f"{name}."), f"{name}.")
            except ConfigError as e:
                key = re.match(r"[\w.]*", str(e)).group()
                if key in origin:
                    raise ConfigError(origin[key] + str(e)[len(key):]) from None
                raise
    return out


def variant(params: dict, name: str) -> Any:
    """The ``variants.<name>`` settings (a ``VariantParams``); needs the images sections loaded."""
    if name not in params["variants"]:
        raise UserError(f"variants.{name}: unknown variant (defined: {', '.join(params['variants'])})")
    return params["variants"][name]


def flatten(d: Mapping, prefix: str = "") -> dict[str, Any]:
    """{'train': {'lr': 1}} -> {'train.lr': 1}, for MLflow params."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def section_params(params: dict, *sections: str, variant_name: str | None = None) -> dict:
    """The raw params a stage reads (what it declares in dvc.yaml), flattened."""
    raw = params["_raw"]
    picked = {s: raw[s] for s in sections if s in raw}
    if variant_name is not None:
        picked["variants"] = {variant_name: raw["variants"][variant_name]}
    return flatten(picked)
