"""advection-cnn: a small convolutional network that forecasts a 2-D field
hours ahead, one step at a time (autoregressively), from its analysis.

Shared by the training script (train/train.py), the image's entry point
(forecast.py) and the tests, so all three compute with the same code:

    net = load_checkpoint(path)             # the network and its settings
    fields = forecast(net, stats, x0, n)    # n steps from the field x0 (y, x)

A step: standardise the field with the training statistics, the network
predicts the standardised one-step increment, which is un-standardised and
added (as neural-lam does: x[t+1] = x[t] + diff_mean + diff_std * net(x)).
The grid is periodic (circular padding), so any grid size works.
"""
import re

import numpy as np
import torch
from torch import nn


class AdvectionCNN(nn.Module):
    def __init__(self, channels=32, layers=3, kernel=5):
        super().__init__()
        mods, c_in = [], 1
        for i in range(layers):
            c_out = 1 if i == layers - 1 else channels
            mods.append(nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, padding_mode="circular"))
            if i < layers - 1:
                mods.append(nn.GELU())
            c_in = c_out
        self.net = nn.Sequential(*mods)
        self.settings = {"channels": channels, "layers": layers, "kernel": kernel}

    def forward(self, x):  # (batch, 1, y, x), standardised -> standardised increment
        return self.net(x)


def parameter_count(net):
    return sum(p.numel() for p in net.parameters())


def save_checkpoint(net, path, **meta):
    torch.save({"state_dict": net.state_dict(), "settings": net.settings, **meta}, path)


def load_checkpoint(path):
    ckpt = torch.load(path, map_location="cpu")
    net = AdvectionCNN(**ckpt["settings"])
    net.load_state_dict(ckpt["state_dict"])
    net.eval()
    return net, ckpt


def forecast(net, stats, x0, steps):
    """steps fields after x0 (a float32 array (y, x)), as an array (steps, y, x)."""
    mean, std = stats["mean"], stats["std"]
    diff_mean, diff_std = stats["diff_mean"], stats["diff_std"]
    x = torch.from_numpy(np.asarray(x0, dtype=np.float32))[None, None]
    out = []
    with torch.no_grad():
        for _ in range(steps):
            x = x + diff_mean + diff_std * net((x - mean) / std)
            out.append(x[0, 0].numpy().copy())
    return np.stack(out) if out else np.zeros((0,) + np.shape(x0), np.float32)


def synthetic_field(rng, ny, nx, t_hours, velocity, blobs=6):
    """A smooth field (K) of Gaussian blobs on a periodic grid, advected for
    t_hours at velocity (cells per hour, (vy, vx)): the truth the network
    learns, and the analyses the input generator writes."""
    centres = rng.uniform(0, 1, (blobs, 2)) * (ny, nx)
    amplitude = rng.uniform(-10, 10, blobs)
    width = rng.uniform(2.5, 6.0, blobs)
    return blob_field(centres, amplitude, width, ny, nx, t_hours, velocity)


def blob_field(centres, amplitude, width, ny, nx, t_hours, velocity):
    y, x = np.mgrid[0:ny, 0:nx].astype(np.float64)
    field = np.full((ny, nx), 280.0)
    for (cy, cx), a, w in zip(centres, amplitude, width):
        dy = (y - cy - velocity[0] * t_hours + ny / 2) % ny - ny / 2
        dx = (x - cx - velocity[1] * t_hours + nx / 2) % nx - nx / 2
        field += a * np.exp(-(dy**2 + dx**2) / (2 * w**2))
    return field.astype(np.float32)


def duration_hours(iso):
    """ISO 8601 duration (PT18H, PT90M, P1DT6H) in hours."""
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", iso or "")
    if not m or iso in ("P", "PT"):
        raise ValueError(f"FORECAST_DURATION '{iso}': expected an ISO 8601 duration such as PT18H")
    d, h, mi, s = (int(g or 0) for g in m.groups())
    return d * 24 + h + mi / 60 + s / 3600


def steps_for(duration, step_hours):
    n = duration_hours(duration) / step_hours
    if abs(n - round(n)) > 1e-9:
        raise ValueError(f"FORECAST_DURATION {duration} is not a whole number of {step_hours} h steps")
    return int(round(n))

