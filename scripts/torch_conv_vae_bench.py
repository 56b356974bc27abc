"""PyTorch baseline for `pipeline bench train --architecture conv`: the same conv VAE on 28x28
inputs -- Conv2d(1,32,4,2,1) ReLU, Conv2d(32,64,4,2,1) ReLU (28 -> 14 -> 7), flatten, Linear(3136,
DENSE) ReLU, Linear(DENSE, 2Z) for [mu | log var]; decoder Linear(Z, DENSE) ReLU, Linear(DENSE,
3136) ReLU, ConvTranspose2d(64,32,4,2,1) ReLU, ConvTranspose2d(32,1,4,2,1) -> logits -- Bernoulli
decoder via BCE-with-logits summed over pixels, analytic KL, Adam 1e-3, trained on random inputs
in [0,1). Prints samples per second over `steps` steps after 20 warm-up steps, and peak RSS.

Usage: python3 torch_conv_vae_bench.py DENSE LATENT BATCH STEPS [THREADS]   e.g.  256 20 128 100 2
(the sibling of torch_vae_bench.py; run it back to back with the Rust side at the same threads).
"""
import resource, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

CH = (32, 64)


class ConvVAE(nn.Module):
    """The net both this benchmark and torch_conv_vae_fidelity.py train."""

    def __init__(s, dense, latent):
        super().__init__()
        s.c1, s.c2 = nn.Conv2d(1, CH[0], 4, 2, 1), nn.Conv2d(CH[0], CH[1], 4, 2, 1)
        s.e1, s.head = nn.Linear(CH[1] * 49, dense), nn.Linear(dense, 2 * latent)
        s.d1, s.d2 = nn.Linear(latent, dense), nn.Linear(dense, CH[1] * 49)
        s.t1, s.t2 = nn.ConvTranspose2d(CH[1], CH[0], 4, 2, 1), nn.ConvTranspose2d(CH[0], 1, 4, 2, 1)

    def forward(s, x):
        h = F.relu(s.c2(F.relu(s.c1(x.view(-1, 1, 28, 28)))))
        mu, lv = s.head(F.relu(s.e1(h.flatten(1)))).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        h = F.relu(s.d2(F.relu(s.d1(z)))).view(-1, CH[1], 7, 7)
        return s.t2(F.relu(s.t1(h))).flatten(1), mu, lv


def flops_per_sample(dense, latent):
    """6 per weight use, as the Rust side counts it (a filter entry once per output pixel)."""
    conv = 14 * 14 * 16 * CH[0] + 7 * 7 * 16 * CH[0] * CH[1]
    deconv = 14 * 14 * 16 * CH[1] * CH[0] + 28 * 28 * 16 * CH[0]
    dense_w = CH[1] * 49 * dense + dense * 2 * latent + latent * dense + dense * CH[1] * 49
    return 6 * (conv + deconv + dense_w)


def main():
    torch.manual_seed(0)
    dense, latent, bs, steps = [int(a) for a in sys.argv[1:5]]
    if len(sys.argv) > 5:
        torch.set_num_threads(int(sys.argv[5]))
    m = ConvVAE(dense, latent)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    x = torch.rand(bs, 784)

    def step():
        logits, mu, lv = m(x)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / bs
        kl = -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp()) / bs
        loss = rec + kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(20):
        step()
    t = time.time()
    for _ in range(steps):
        loss = step()
    dt = time.time() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch {torch.__version__} threads {torch.get_num_threads()} conv {list(CH)} dense {dense} latent {latent} "
          f"batch {bs}: {steps * bs / dt:.0f} samples/s, {dt * 1e3 / steps:.2f} ms/step, "
          f"{steps * bs * flops_per_sample(dense, latent) / dt / 1e9:.1f} GFLOP/s, loss {loss:.3f}, peak RSS {rss:.1f} MiB")


if __name__ == "__main__":
    main()
