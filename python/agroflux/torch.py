# SPDX-License-Identifier: MIT
"""A PyTorch Dataset over an agroflux output: one item per sample of a split part.

    from agroflux.torch import SampleDataset
    train = SampleDataset("output/", "temporal", "train", scaled=True)
    loader = torch.utils.data.DataLoader(train, batch_size=8, shuffle=True)
    for x, y, mask in loader:        # (batch, days, inputs), (batch, days, targets), bool
        loss = ((model(x.nan_to_num()) - y.nan_to_num()) ** 2)[mask].mean()

Items come from agroflux.Output (numpy + netCDF4), so the splits and the leak-free scalers are
the ones index.json records (docs/training.md). Needs torch.
"""
import numpy as np
import torch

from .reader import Output

__all__ = ["SampleDataset"]


class SampleDataset(torch.utils.data.Dataset):
    """Samples of one part ("train", "val", "test") of a split ("temporal", "spatial", "loso")."""

    def __init__(self, outdir, split, part, fold=0, scaled=True):
        self.out = Output(outdir)
        self.split, self.part, self.fold, self.scaled = split, part, fold, scaled
        self.indices = self.out.part_samples(split, part, fold)
        self.days = self.out.part_days(split, part)
        self.scalers = self.out.scalers(split, fold) if scaled else None

    def __len__(self):
        return len(self.indices)

    def sample_id(self, k):
        return self.out.samples[self.indices[k]]["id"]

    def __getitem__(self, k):
        x, y, mask = self.out.read(self.indices[k])
        x, y, mask = x[self.days], y[self.days], mask[self.days]
        if self.scalers is not None:
            x = Output._scale(x, self.scalers[0], self.scalers[1])
            y = Output._scale(y, self.scalers[2], self.scalers[3])
        return (torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y)),
                torch.from_numpy(np.ascontiguousarray(mask)))
