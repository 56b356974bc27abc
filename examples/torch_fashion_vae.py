"""PyTorch twin of examples/fashion_vae.rs: the pytorch/examples `vae` (784-400-20, ReLU, Bernoulli
decoder, Adam 1e-3, batch 128, shuffled) trained on Fashion-MNIST, printing the per-epoch test loss
(recon + KL per example, one reparameterised sample, as in pytorch/examples).
Usage: python3 examples/torch_fashion_vae.py DIR EPOCHS THREADS   (DIR holds uncompressed IDX files)
Comparison only; torch is not a project dependency.
"""
import sys, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

d = sys.argv[1] if len(sys.argv) > 1 else "/tmp/fmnist"
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
torch.manual_seed(1)


def idx(path):
    b = np.fromfile(path, dtype=np.uint8)
    return torch.from_numpy(b[16:].reshape(-1, 784).astype(np.float32) / 255.0)


train_x, test_x = idx(f"{d}/train-images-idx3-ubyte"), idx(f"{d}/t10k-images-idx3-ubyte")


class VAE(nn.Module):
    def __init__(s):
        super().__init__()
        s.e1, s.mu, s.lv = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        s.d1, s.d2 = nn.Linear(20, 400), nn.Linear(400, 784)

    def forward(s, x):
        h = F.relu(s.e1(x))
        mu, lv = s.mu(h), s.lv(h)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        return s.d2(F.relu(s.d1(z))), mu, lv


def loss_sum(logits, x, mu, lv):
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    return rec + -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp())


m = VAE()
opt = torch.optim.Adam(m.parameters(), lr=1e-3)
for epoch in range(epochs):
    t = time.time()
    perm = torch.randperm(len(train_x))
    tot = 0.0
    for i in range(0, len(train_x), 128):
        x = train_x[perm[i:i + 128]]
        logits, mu, lv = m(x)
        loss = loss_sum(logits, x, mu, lv)
        opt.zero_grad()
        (loss / len(x)).backward()
        opt.step()
        tot += loss.item()
    test = 0.0
    with torch.no_grad():
        for x in test_x.split(128):
            logits, mu, lv = m(x)
            test += loss_sum(logits, x, mu, lv).item()
    print(f"epoch {epoch + 1} train_loss {tot / len(train_x):.4f} test_loss {test / len(test_x):.4f} "
          f"seconds {time.time() - t:.2f}")
print(f"torch final test_loss {test / len(test_x):.4f} after {epochs} epochs")
