import numpy as np

from ebm.evaluation import frechet_distance


def test_frechet_distance_of_a_set_with_itself_is_zero():
    f = np.random.default_rng(0).normal(size=(500, 4))
    assert abs(frechet_distance(f, f)) < 1e-6


def test_frechet_distance_matches_the_closed_form():
    # N(0, I) vs N(m, 4I) in 3-D: |m|^2 + 3 * (1 + 4 - 2*2) = |m|^2 + 3
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200000, 3))
    b = rng.normal(size=(200000, 3)) * 2 + np.array([1.0, 2.0, 0.0])
    assert abs(frechet_distance(a, b) - 8.0) < 0.1
