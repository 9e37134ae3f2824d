# SPDX-License-Identifier: MIT
"""A numpy replica of what the official AgroFlux training code (public repository qxc101/AgroFlux,
dataset/dataset.py, train_t0.py, evaluate_t0.py, train_t1.py, train_t2.py) does with data_files/:
the reshapes, splits, module joins, scaler loads and the masked joins of the T1/T2 scripts,
written here from a reading of that code, not copied. The official code hard-codes the sizes of
the published arrays (18 Ecosys years, 21 DayCent years, 99 counties x 20 rates, 11 towers,
6 chambers); here they are parameters taken from the export, so a small export exercises the
same index arithmetic. Every function raises (as the official code would fail) where the official
code would: a reshape that does not fit, an empty part concatenated, masked vectors of different
lengths concatenated column-wise.
"""
import os

import numpy as np

MODULES_ALL = ["Carbon", "Thermal", "Water", "Nitrogen"]   # the "All" concatenation order


def load_t0(root, sub, module):
    """X (days, samples, 11) and Y of a module; "All" joins the four modules on the last axis."""
    d = os.path.join(root, "data_files", "t0_%s" % sub)
    x = np.load(os.path.join(d, "X_%s_scaled.npy" % sub))
    if module == "All":
        y = np.concatenate([np.load(os.path.join(d, "Y_%s_scaled_%s.npy" % (sub, m))) for m in MODULES_ALL], axis=-1)
    else:
        y = np.load(os.path.join(d, "Y_%s_scaled_%s.npy" % (sub, module)))
    return x, y


def year_counts(nyears):
    """Training, validation and test years: int(0.8 n), int(0.1 n) and the rest."""
    ntr = int(nyears * 0.8)
    nva = int(nyears * 0.1)
    return ntr, nva, nyears - ntr - nva


def to_sequences(a):
    """(days, samples, k) -> (samples * years, 365, k): sample-major, then year, as the official permute."""
    days, s, k = a.shape
    return np.ascontiguousarray(np.transpose(a, (1, 0, 2))).reshape(-1, 365, k)


def t0_temporal(x, y, nyears):
    """The official temporal experiment of the county arrays: whole years to the three parts."""
    ntr, nva, _ = year_counts(nyears)
    out = []
    for a in (x, y):
        yearly = a.reshape(nyears, 365, a.shape[1], a.shape[2])
        parts = [yearly[:ntr], yearly[ntr:ntr + nva], yearly[ntr + nva:]]
        out.append([to_sequences(p.reshape(-1, a.shape[1], a.shape[2])) for p in parts])
    return out  # [[x_train, x_val, x_test], [y_train, y_val, y_test]]


def spatial_blocks(ncounties, fold):
    """County list positions of the official spatial fold: blocks of ncounties // 5."""
    fs = ncounties // 5
    val = list(range(fold * fs, fold * fs + fs))
    t0 = (fold + 1) % 5 * fs
    test = list(range(t0, t0 + fs))
    train = [c for c in range(ncounties) if c not in val and c not in test]
    return train, val, test


def t0_spatial(x, y, ncounties, nscen, fold):
    train, val, test = spatial_blocks(ncounties, fold)
    out = []
    for a in (x, y):
        site = a.reshape(a.shape[0], ncounties, nscen, a.shape[2])
        out.append([to_sequences(site[:, idx].reshape(a.shape[0], -1, a.shape[2])) for idx in (train, val, test)])
    return out


def t0_scalers(root, module):
    """(mean, std) vectors the official T0 scripts de-normalise predictions with."""
    d = os.path.join(root, "data_files", "t0_scalers")
    if module == "All":
        parts = [np.load(os.path.join(d, "Y_scaler_%s.npy" % m)) for m in MODULES_ALL]
        return np.concatenate([p[:, 0] for p in parts]), np.concatenate([p[:, 1] for p in parts])
    s = np.load(os.path.join(d, "Y_scaler_%s.npy" % module))
    return s[:, 0], s[:, 1]


def t1_co2(root, ntowers, exp, fold=0):
    """Tower files: temporal = per tower int(0.8 n)/int(0.1 n)/rest years; spatial = tower fold validates,
    tower fold+1 tests. Returns [x_train, x_val, x_test], [y_train, y_val, y_test] of (items, 365, k)."""
    d = os.path.join(root, "data_files", "t1_co2")
    parts = {"x": [[], [], []], "y": [[], [], []]}
    for s in range(ntowers):
        x = np.load(os.path.join(d, "X_real_scaled_ECfluxnet_%d.npy" % s))
        y = np.load(os.path.join(d, "Y_real_scaled_ECfluxnet_Combined_%d.npy" % s))
        for key, a in (("x", x), ("y", y)):
            if exp == "temporal":
                ntr, nva, _ = year_counts(a.shape[0] // 365)
                parts[key][0].append(a[:ntr * 365].reshape(-1, 365, a.shape[2]))
                if nva > 0:
                    parts[key][1].append(a[ntr * 365:(ntr + nva) * 365].reshape(-1, 365, a.shape[2]))
                parts[key][2].append(a[(ntr + nva) * 365:].reshape(-1, 365, a.shape[2]))
            else:
                which = 1 if s == fold else 2 if s == (fold + 1) % ntowers else 0
                parts[key][which].append(a.reshape(-1, 365, a.shape[2]))
    return [np.concatenate(p, axis=0) for p in parts["x"]], [np.concatenate(p, axis=0) for p in parts["y"]]


def t1_n2o(root, nchambers, exp, fold=0):
    """Chamber files (365, years, k): temporal = years 0-1 train, 1 validation, 2 test; spatial = chamber
    fold validates, fold+1 tests."""
    d = os.path.join(root, "data_files", "t1_n2o")
    parts = {"x": [[], [], []], "y": [[], [], []]}
    for c in range(nchambers):
        x = np.load(os.path.join(d, "X_real_scaled_%d.npy" % c))
        y = np.load(os.path.join(d, "Y_real_scaled_Combined_%d.npy" % c))
        for key, a in (("x", x), ("y", y)):
            if exp == "temporal":
                parts[key][0].append(np.transpose(a[:, 0:2, :], (1, 0, 2)))
                parts[key][1].append(a[:, 1, :][None])
                parts[key][2].append(a[:, 2, :][None])
            else:
                which = 1 if c == fold else 2 if c == (fold + 1) % nchambers else 0
                parts[key][which].append(np.transpose(a, (1, 0, 2)))
    return [np.concatenate(p, axis=0) for p in parts["x"]], [np.concatenate(p, axis=0) for p in parts["y"]]


def co2_validation_pairs(y):
    """train_t1/train_t2 validation for towers: the masked NEE (column 1) and GPP (column 0) vectors of a
    batch are joined column-wise, which only works when both masks keep the same number of days."""
    nee = y[:, :, 1][~np.isnan(y[:, :, 1])]
    gpp = y[:, :, 0][~np.isnan(y[:, :, 0])]
    if nee.shape != gpp.shape:
        raise RuntimeError("Sizes of tensors must match: NEE %s, GPP %s" % (nee.shape, gpp.shape))
    return np.stack([nee, gpp], axis=1)


def co2_denormalise(pairs, root):
    """train_t1: NEE de-normalised with Y_scaler_Carbon row 2 (CO2_FLUX), GPP with row 1 (GPP)."""
    s = np.load(os.path.join(root, "data_files", "t0_scalers", "Y_scaler_Carbon.npy"))
    return pairs * s[[2, 1], 1] + s[[2, 1], 0]


def n2o_denormalise(v, root):
    """train_t1/train_t2: chamber N2O de-normalised with Y_scaler_Nitrogen row 0 (N2O_FLUX)."""
    s = np.load(os.path.join(root, "data_files", "t0_scalers", "Y_scaler_Nitrogen.npy"))
    return v * s[0, 1] + s[0, 0]


def torch_t0_temporal(x, y, nyears):
    """The same temporal split with torch tensor views (view/permute/contiguous), when torch is there."""
    import torch
    ntr, nva, _ = year_counts(nyears)
    out = []
    for a in (x, y):
        t = torch.from_numpy(a)
        yearly = t.view(nyears, 365, t.shape[1], t.shape[2])
        parts = [yearly[:ntr], yearly[ntr:ntr + nva], yearly[ntr + nva:]]
        out.append([p.contiguous().view(-1, t.shape[1], t.shape[2]).permute(1, 0, 2).contiguous()
                    .view(-1, 365, t.shape[2]).numpy() for p in parts])
    return out
