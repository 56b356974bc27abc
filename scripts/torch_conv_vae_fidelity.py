"""PyTorch side of the conv VAE fidelity check: the net of torch_conv_vae_bench.py (conv 32, 64,
4x4 stride 2 padding 1, dense 256, latent Z, transposed decoder, Bernoulli via BCE-with-logits),
trained on Fashion-MNIST as `experiments/conv_vae.toml` trains it: pixels in [0, 1] (no
binarization), 90% of the training images (the rest is validation there), batch 128, Adam 1e-3,
reshuffled each epoch. Prints the test set's -ELBO (reconstruction at one sampled z + analytic KL,
nats per image), as `pipeline`'s evaluate reports it.

Usage: python3 torch_conv_vae_fidelity.py [EPOCHS] [LATENT] [THREADS] [DIR]
       defaults: 10 20 2 /usr/share/datasets/fashion-mnist
"""
import gzip, sys, time
import numpy as np
import torch, torch.nn.functional as F

from torch_conv_vae_bench import ConvVAE  # the benchmark's net, beside this script

epochs, latent, threads = [int(a) for a in (sys.argv[1:4] + ["10", "20", "2"][len(sys.argv[1:4]):])]
root = sys.argv[4] if len(sys.argv) > 4 else "/usr/share/datasets/fashion-mnist"
torch.set_num_threads(threads)
torch.manual_seed(1)
DENSE = 256


def images(name):
    with gzip.open(f"{root}/{name}", "rb") as f:
        data = f.read()
    return torch.from_numpy(np.frombuffer(data, np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0)


def neg_elbo_sum(m, x):
    logits, mu, lv = m(x)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp())
    return rec, kl


train_all, test = images("train-images-idx3-ubyte.gz"), images("t10k-images-idx3-ubyte.gz")
perm = torch.randperm(len(train_all))
train = train_all[perm[: len(train_all) * 9 // 10]]
m = ConvVAE(DENSE, latent)
opt = torch.optim.Adam(m.parameters(), lr=1e-3)
t0 = time.time()
for epoch in range(epochs):
    order = torch.randperm(len(train))
    total = 0.0
    for i in range(0, len(train), 128):
        x = train[order[i : i + 128]]
        rec, kl = neg_elbo_sum(m, x)
        loss = (rec + kl) / len(x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(x)
    print(f"epoch {epoch + 1}: train -ELBO {total / len(train):.3f} ({time.time() - t0:.0f} s)", flush=True)
with torch.no_grad():
    rec = kl = 0.0
    for i in range(0, len(test), 1000):
        r, k = neg_elbo_sum(m, test[i : i + 1000])
        rec, kl = rec + r.item(), kl + k.item()
n = len(test)
print(f"torch {torch.__version__}: test -ELBO {(rec + kl) / n:.3f} (recon {rec / n:.3f}, KL {kl / n:.3f}), "
      f"{epochs} epochs latent {latent}, {time.time() - t0:.0f} s")
