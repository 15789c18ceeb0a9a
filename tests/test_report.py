"""The report builds from small fake metrics: every table present, every image link resolves."""

import json
import re
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def fake_project(tmp: Path) -> None:
    def js(path, obj):
        (tmp / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp / path).write_text(json.dumps(obj))

    def png(path):
        (tmp / path).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp / path)

    js("metrics/classifier.json", {"test_accuracy": 0.97})
    js("metrics/evaluate/digits_cond.json", {"fd_single": 5.0, "fd_ensemble": 4.0, "fd_floor": 3.0,
                                             "cond_accuracy_single": 0.9, "cond_accuracy_ensemble": 0.95})
    js("metrics/restore/digits_cond.json", {"denoise_test": {"mse": 0.01}, "denoise_train": {"mse": 0.01}})
    js("metrics/crossclass/digits_cond.json", {"new_label_share": 0.5})
    js("metrics/ood/digits_uncond.json", {"auroc": {"uniform": 1.0, "interpolation": 0.8}, "auroc_mean": 0.9})
    js("metrics/robustness/digits_cond.json", {"linf": {"0.0": 0.9}})
    js("metrics/evaluate_traj.json", {"ebm_cond": {"h10": 1.0}})
    js("metrics/continual.json", {"methods": {"ebm": {"acc_mean": 60.0, "acc_std": 5.0}, "ewc": {"acc_mean": 20.0, "acc_std": 1.0}}})
    js("metrics/crossproduct.json", {"ebm_mse": 0.05})
    for p in ("plots/images/sample/digits_cond/single.png", "plots/images/ood/digits_uncond/roc.png",
              "plots/images/continual/accuracy.png"):
        png(p)
    (tmp / "params.yaml").write_text((ROOT / "params.yaml").read_text())


def test_report_has_every_table_and_resolvable_images(tmp_path, monkeypatch):
    fake_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    from stages.report.page import build, read_metrics
    from stages.report.document import to_html, to_markdown
    from stages.report.scorecard import scorecard

    blocks = build(scorecard(read_metrics))
    md = to_markdown(blocks, tmp_path / "report")
    html = to_html(blocks, "t")
    for title in ("1. Generation", "2. Denoising", "3. Cross-class", "4. Out-of-distribution", "5. Adversarial",
                  "6. Trajectory", "7. Continual", "8. Compositional", "Params that produced"):
        assert f"## {title}" in md
    assert "| set | ours (AUROC) | paper (CIFAR-10, AUROC) |" in md and "| uniform | 1 | 1 |" in md
    assert "| ebm | 60 | 5 | 64.99 |" in md  # ours beside the paper's continual-learning table
    assert "| CIFAR-10 conditional | 8.3 | 37.9 |" in md
    (tmp_path / "report").mkdir()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(links) == 3 and all((tmp_path / "report" / link).is_file() for link in links)
    assert all(link.startswith("../plots/images/") for link in links)  # linked where they lie, not copied
    captions = re.findall(r"!\[([^\]]*)\]", md)
    assert not any(".png" in c or "/" in c for c in captions), captions  # words, not paths
    assert "Samples from the final model (class-conditional digits EBM)" in captions[0]
    # the page opens with the scorecard, each claim linked to its section
    assert md.index("## Scorecard") < md.index("## 1. Generation")
    for anchor in ("generation", "restoration", "cross-class", "ood", "robustness", "trajectories", "continual",
                   "composition"):
        assert f"](#{anchor})" in md and f'<a id="{anchor}"></a>' in md and f"id='{anchor}'" in html
    assert "DESIGN" not in md and "reference §" not in md
    assert html.count("data:image/png;base64,") == 3 and "<table>" in html
    assert yaml.safe_load((tmp_path / "params.yaml").read_text())["seed"] == 0
