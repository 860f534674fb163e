#!/usr/bin/env python3
"""Train advection-cnn and write what `mlwm build-artifact` packages.

usage: train.py OUT_DIR [--steps N] [--seed S]

Training data are synthetic: smooth fields of Gaussian blobs on a periodic
32 x 32 grid, advected at a constant velocity (0.5, 1.0 cells per hour); the
network learns the one-hour step. Seeded: the same command writes the same
checkpoint. Runs on CPU (Debian's python3-torch), in about 20 s on 2 cores.

OUT_DIR receives, as a neural-lam training run leaves them:
  config.yaml                  neural-lam configuration (datastore: mdp)
  advection.datastore.yaml     the datastore's configuration (mllam-data-prep)
  advection.datastore.zarr/    the datastore: a sample of the state and its
                               statistics, state__train__{mean,std,diff_mean,diff_std}
  training_cli_args.yaml       the training arguments
  last.ckpt                    the checkpoint (weights, network settings, step)
then: mlwm build-artifact advection-cnn --nl_config config.yaml --checkpoint last.ckpt \\
          --cli_training_args_filepath training_cli_args.yaml
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import xarray as xr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import model  # noqa: E402  (the configuration's model.py: the same code the image runs)

VELOCITY = (0.5, 1.0)  # cells per hour (y, x)
NY = NX = 32
STEP_HOURS = 1


def pairs(rng, n):
    """n (field at t, field at t + 1 h) pairs, each a fresh random field."""
    x0 = np.empty((n, NY, NX), np.float32)
    x1 = np.empty_like(x0)
    for i in range(n):
        centres = rng.uniform(0, 1, (6, 2)) * (NY, NX)
        amplitude, width = rng.uniform(-10, 10, 6), rng.uniform(2.5, 6.0, 6)
        x0[i] = model.blob_field(centres, amplitude, width, NY, NX, 0, VELOCITY)
        x1[i] = model.blob_field(centres, amplitude, width, NY, NX, STEP_HOURS, VELOCITY)
    return x0, x1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir")
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t0 = time.time()

    # the statistics, from a sample of the training data
    s0, s1 = pairs(rng, 256)
    diff = s1 - s0
    stats = {"mean": float(s0.mean()), "std": float(s0.std()),
             "diff_mean": float(diff.mean()), "diff_std": float(diff.std())}

    net = model.AdvectionCNN()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.steps)
    for step in range(args.steps):
        x0, x1 = pairs(rng, 16)
        x0, x1 = torch.from_numpy(x0)[:, None], torch.from_numpy(x1)[:, None]
        target = (x1 - x0 - stats["diff_mean"]) / stats["diff_std"]
        loss = torch.nn.functional.mse_loss(net((x0 - stats["mean"]) / stats["std"]), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {loss.item():.5f}", flush=True)
    net.eval()

    # validation: a 6 h forecast of unseen fields, against the truth and persistence
    v = np.random.default_rng(args.seed + 1000)
    err_net = err_pers = 0.0
    for _ in range(8):
        c, a, w = v.uniform(0, 1, (6, 2)) * (NY, NX), v.uniform(-10, 10, 6), v.uniform(2.5, 6.0, 6)
        x0 = model.blob_field(c, a, w, NY, NX, 0, VELOCITY)
        truth = model.blob_field(c, a, w, NY, NX, 6, VELOCITY)
        err_net += float(np.sqrt(np.mean((model.forecast(net, stats, x0, 6)[-1] - truth) ** 2)))
        err_pers += float(np.sqrt(np.mean((x0 - truth) ** 2)))
    print(f"trained in {time.time() - t0:.1f} s, {model.parameter_count(net)} parameters; "
          f"6 h RMSE {err_net / 8:.3f} K (persistence {err_pers / 8:.3f} K)")

    model.save_checkpoint(net, os.path.join(args.out_dir, "last.ckpt"), variable="t2m",
                          step_hours=STEP_HOURS, velocity=VELOCITY, seed=args.seed, steps=args.steps)
    with open(os.path.join(args.out_dir, "config.yaml"), "w") as f:
        f.write("datastore:\n  kind: mdp\n  config_path: advection.datastore.yaml\n"
                "training:\n  state_feature_weighting: {}\n")
    with open(os.path.join(args.out_dir, "advection.datastore.yaml"), "w") as f:
        f.write(DATASTORE_YAML)
    with open(os.path.join(args.out_dir, "training_cli_args.yaml"), "w") as f:
        f.write(f"- steps: {args.steps}\n- seed: {args.seed}\n- batch_size: 16\n- lr: 0.003\n"
                f"- ar_steps_train: 1\n")
    sample = np.stack([s0[:4].reshape(4, -1)], axis=-1)  # (time, grid_index, state_feature)
    ds = xr.Dataset(
        {"state": (("time", "grid_index", "state_feature"), sample),
         **{f"state__train__{k}": (("state_feature",), np.array([val], np.float32))
            for k, val in stats.items()}},
        coords={"state_feature": ["t2m"], "time": np.arange(4), "grid_index": np.arange(NY * NX)})
    ds.to_zarr(os.path.join(args.out_dir, "advection.datastore.zarr"), mode="w", consolidated=True)
    print(f"wrote {args.out_dir}: config.yaml, advection.datastore.yaml, advection.datastore.zarr, "
          "training_cli_args.yaml, last.ckpt")


DATASTORE_YAML = """\
schema_version: v0.5.0
dataset_version: v0.1.0
output:
  variables:
    state: [time, grid_index, state_feature]
  coord_ranges:
    time: {start: 1990-01-01T00:00, end: 1990-01-31T23:00, step: PT1H}
  chunking: {time: 1}
  splitting:
    dim: time
    splits:
      train:
        start: 1990-01-01T00:00
        end: 1990-01-31T23:00
        compute_statistics:
          ops: [mean, std, diff_mean, diff_std]
          dims: [grid_index, time]
inputs:
  synthetic_analysis:
    path: s3://mlwm-inputs/synthetic/advection/
    dims: [time, x, y]
    variables: [t2m]
    dim_mapping:
      time: {method: rename, dim: time}
      grid_index: {method: stack, dims: [x, y]}
      state_feature: {method: stack_variables_by_var_name, name_format: "{var_name}"}
    target_output_variable: state
"""

if __name__ == "__main__":
    main()
