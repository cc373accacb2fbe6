"""Trains a small CNN on the UCI handwritten digits that ship with ember, the PyTorch way:
nn.Module + BatchNorm + Dropout, AdamW with OneCycleLR, a DataLoader with worker processes
and random-shift augmentation, a tqdm progress bar, evaluation on a held-out split, and a
pickle-free checkpoint saved with ember.save and reloaded into a fresh model.

Run: python examples/train_digits.py [--epochs 12] [--workers 2] [--out digits_cnn.safetensors]
     [--device cuda]   (on a GPU: pinned batches copied with non_blocking=True)
"""
import argparse
import os
import tempfile
import time

from tqdm import tqdm

import ember
from ember import nn
from ember.data import DataLoader
from ember.data.datasets import Digits


class RandomShift:
    """Shifts an image by up to `pixels` in each direction, filling with zeros."""

    def __init__(self, pixels=1):
        self.pixels = pixels

    def __call__(self, img):  # (1, 8, 8)
        p = self.pixels
        dy, dx = ember.randint(-p, p + 1, (2,)).tolist()
        padded = ember.pad(img, (p, p, p, p))
        return padded[:, p - dy:p - dy + 8, p - dx:p - dx + 8]


def make_model():
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        *block(1, 32), *block(32, 32), nn.MaxPool2d(2),   # (B, 32, 4, 4)
        *block(32, 64), nn.MaxPool2d(2),                  # (B, 64, 2, 2)
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(256, 10))


@ember.no_grad()
def evaluate(model, loader, device="cpu"):
    model.eval()
    correct = total = 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        correct += int((model(x).argmax(dim=1) == y).sum())
        total += len(y)
    return correct / total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "digits_cnn.safetensors"))
    args = ap.parse_args()

    start = time.perf_counter()
    ember.manual_seed(args.seed)
    train_set = Digits(train=True, transform=RandomShift(1))
    test_set = Digits(train=False)
    gpu = args.device.startswith("cuda")
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, drop_last=True,
                              num_workers=args.workers, persistent_workers=args.workers > 0, pin_memory=gpu)
    test_loader = DataLoader(test_set, batch_size=256)

    model = make_model().to(args.device)
    print(model)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(train_set)} training and {len(test_set)} held-out images")
    opt = ember.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)
    sched = ember.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=len(train_loader))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)

    for epoch in range(args.epochs):
        model.train()
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1:2d}/{args.epochs}", leave=False, mininterval=0.5)
        for x, y in bar:                     # x (B, 1, 8, 8), y (B,)
            x, y = x.to(args.device, non_blocking=gpu), y.to(args.device, non_blocking=gpu)
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{sched.get_last_lr()[0]:.2e}")
        acc = evaluate(model, test_loader, args.device)
        tqdm.write(f"epoch {epoch + 1:2d}: last loss {loss.item():.4f}, held-out accuracy {acc:.2%}")

    acc = evaluate(model, test_loader, args.device)
    ember.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epochs": args.epochs}, args.out)
    ckpt = ember.load(args.out, map_location=args.device)
    fresh = make_model().to(args.device)
    fresh.load_state_dict(ckpt["model"])
    reloaded = evaluate(fresh, test_loader, args.device)
    print(f"checkpoint: {args.out} ({os.path.getsize(args.out) / 1024:.0f} KiB, safetensors)")
    print(f"test accuracy: {acc:.2%} (reloaded checkpoint: {reloaded:.2%}) in {time.perf_counter() - start:.1f} s")
    if reloaded != acc:
        raise SystemExit("the reloaded checkpoint does not reproduce the accuracy")


if __name__ == "__main__":
    main()
