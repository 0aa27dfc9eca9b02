"""Shapes, packing, seeded initialisation and spectral normalisation of the GAN networks."""

import torch

from genlab.gan import Discriminator, Generator, pack_samples


def test_shapes_and_packing():
    G = Generator(latent_dim=3, dim=2, width=16, depth=2)
    z = G.sample_latent(12)
    assert z.shape == (12, 3) and G(z).shape == (12, 2)
    D = Discriminator(dim=2, pack=4, width=16, depth=2)
    assert D(pack_samples(G(z), 4)).shape == (3,)
    x = torch.arange(12.0).reshape(6, 2)
    assert torch.equal(pack_samples(x, 3)[1], torch.tensor([6.0, 7, 8, 9, 10, 11]))


def test_initialisation_follows_the_generator():
    a = Generator(2, 2, 8, 2, generator=torch.Generator().manual_seed(5))
    b = Generator(2, 2, 8, 2, generator=torch.Generator().manual_seed(5))
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def test_spectral_norm_divides_each_weight_by_its_largest_singular_value():
    # One power iteration per forward pass (Miyato et al. 2018, Alg. 1): the estimate sigma_k
    # rises to sigma_1 geometrically, with ratio (sigma_2 / sigma_1)^2 per step; after 300 passes
    # on these 8 x 8 layers the normalised weights have spectral norm 1 to float32 precision.
    torch.manual_seed(0)
    D = Discriminator(dim=2, pack=2, width=8, depth=2, spectral_norm=True)
    x = torch.randn(5, 4)
    for _ in range(300):
        D(x)
    D.eval()
    for layer in D.net:
        if hasattr(layer, "parametrizations"):
            sigma = torch.linalg.matrix_norm(layer.weight.detach(), ord=2)
            assert abs(float(sigma) - 1.0) < 1e-4
