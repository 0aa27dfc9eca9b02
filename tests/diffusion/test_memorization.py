import torch

from genlab.diffusion.memorization import distance_to_training, memorization_fraction, nearest_distances


def test_copies_are_memorised():
    g = torch.Generator().manual_seed(0)
    x_train = torch.randn(100, 2, generator=g, dtype=torch.float64)
    copies = x_train[:40] + 1e-6 * torch.randn(40, 2, generator=g, dtype=torch.float64)
    assert memorization_fraction(copies, x_train) == 1.0
    fresh = torch.randn(40, 2, generator=g, dtype=torch.float64)
    d = distance_to_training(copies, x_train, torch.randn(100, 2, generator=g, dtype=torch.float64))
    assert d["nn_dist_train"] < 1e-5 and d["nn_dist_ratio"] < 1e-3
    assert memorization_fraction(fresh, x_train) < 0.5


def test_nearest_distances_exact():
    ref = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 5.0]], dtype=torch.float64)
    x = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    assert torch.equal(nearest_distances(x, ref, k=2), torch.tensor([[1.0, 2.0]], dtype=torch.float64))
    # 1 < 2 / 3 is false: not memorised at ratio 1/3
    assert memorization_fraction(x, ref) == 0.0
