"""Train the molecule lab's two graph networks on the NCI set shipped in the rdkit wheel; write data/chem/.

    python scripts/train_chem.py          # about 3 minutes on one CPU core; seeded, one thread, byte-identical on rerun

Source: ``RDConfig.RDDataDir/NCI/first_5K.smi`` (4,999 NCI molecules). Molecules rdkit cannot parse, duplicates
(by canonical SMILES) and molecules of more than MAX_ATOMS heavy atoms are dropped; the rest are split by a
seeded permutation into 80 % train / 20 % test.

Two tasks on the same :class:`attrkit.chem.AtomGNN`:
* ``tpsa``: regress rdkit's TPSA (Å²), an exact sum of per-atom contributions: ground truth per atom.
* ``carbonyl``: a planted logic, "active iff the molecule has a carbonyl C=O and no amide N–C=O". The label is
  computed from the SMARTS below, so a network that gets it right must look at the carbonyl atoms: for the
  actives, the ground truth is the carbonyl C and O atoms.

Writes (small, read by notebook 11 and the tests): ``data/chem/{tpsa,carbonyl}.pt`` (state_dicts in float16), the test
split as ``data/chem/test.smi`` (canonical SMILES, one a line) and ``data/chem/metrics.json``.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from attrkit import chem  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "data" / "chem"
MAX_ATOMS = 60
CARBONYL, AMIDE = "[CX3]=[OX1]", "[NX3][CX3]=[OX1]"
SEED, EPOCHS, BATCH, LR = 0, 40, 64, 3e-3
TPSA_SCALE = 100.0      # the network predicts TPSA / 100 during training; the saved head is rescaled


def load_nci():
    """Canonical SMILES of the usable NCI molecules, in file order."""
    from rdkit import Chem, RDConfig, RDLogger
    RDLogger.DisableLog("rdApp.*")                       # a few NCI entries have impossible valences
    seen, out = set(), []
    for line in open(os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")):
        mol = Chem.MolFromSmiles(line.split()[0])
        if mol is None or not 0 < mol.GetNumAtoms() <= MAX_ATOMS:
            continue
        smi = Chem.MolToSmiles(mol)
        if smi not in seen:
            seen.add(smi)
            out.append(smi)
    return out


def carbonyl_label(mol) -> int:
    """The planted logic: 1 iff a carbonyl and no amide."""
    from rdkit import Chem
    return int(mol.HasSubstructMatch(Chem.MolFromSmarts(CARBONYL)) and not mol.HasSubstructMatch(Chem.MolFromSmarts(AMIDE)))


def targets(graphs, task):
    from rdkit.Chem import rdMolDescriptors
    if task == "tpsa":
        return torch.tensor([rdMolDescriptors.CalcTPSA(g.mol) / TPSA_SCALE for g in graphs])
    return torch.tensor([carbonyl_label(g.mol) for g in graphs])


def train(graphs, y, task):
    torch.manual_seed(SEED)
    model = chem.AtomGNN(outputs=1 if task == "tpsa" else 2)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    g = torch.Generator().manual_seed(SEED)
    for _ in tqdm(range(EPOCHS), desc=task):
        order = torch.randperm(len(graphs), generator=g)
        for k in range(0, len(order), BATCH):
            idx = order[k:k + BATCH].tolist()
            x, adj, mask = chem.batch([graphs[i] for i in idx])
            out = model(x, adj, mask)
            loss = (torch.nn.functional.mse_loss(out[:, 0], y[idx]) if task == "tpsa"
                    else torch.nn.functional.cross_entropy(out, y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    if task == "tpsa":                              # fold the /100 into the last layer: outputs are Å²
        with torch.no_grad():
            model.head[-1].weight *= TPSA_SCALE
            model.head[-1].bias *= TPSA_SCALE
    return half_precision(model).eval()


def half_precision(model):
    """Round the weights to float16 (what is shipped: half the bytes) and back, so that every number reported
    here is the shipped model's. ``load_state_dict`` casts them back to float32 when loading."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model


def predict(model, graphs):
    with torch.no_grad():
        return torch.cat([model(*chem.batch(graphs[k:k + 256])) for k in range(0, len(graphs), 256)])


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    smiles = load_nci()
    perm = np.random.default_rng(SEED).permutation(len(smiles))
    n_test = len(smiles) // 5
    test_smiles = [smiles[i] for i in sorted(perm[:n_test])]
    train_smiles = [smiles[i] for i in sorted(perm[n_test:])]
    train_g = [chem.featurise(s) for s in train_smiles]
    test_g = [chem.featurise(s) for s in test_smiles]
    OUT.mkdir(parents=True, exist_ok=True)
    metrics = {"source": "rdkit RDConfig.RDDataDir/NCI/first_5K.smi", "molecules": len(smiles),
               "train": len(train_g), "test": len(test_g), "max_atoms": MAX_ATOMS}
    for task in ("tpsa", "carbonyl"):
        model = train(train_g, targets(train_g, task), task)
        out = predict(model, test_g)
        y = targets(test_g, task)
        if task == "tpsa":
            y = y * TPSA_SCALE
            err = out[:, 0] - y
            metrics["tpsa"] = {"test_r2": round(float(1 - (err ** 2).sum() / ((y - y.mean()) ** 2).sum()), 4),
                               "test_mae": round(float(err.abs().mean()), 3)}
        else:
            metrics["carbonyl"] = {"test_accuracy": round(float((out.argmax(1) == y).float().mean()), 4),
                                   "test_active_fraction": round(float(y.float().mean()), 4)}
        torch.save({k: v.half().clone() for k, v in model.state_dict().items()}, OUT / f"{task}.pt")
        print(task, metrics[task])
    (OUT / "test.smi").write_text("\n".join(test_smiles) + "\n")
    (OUT / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")


if __name__ == "__main__":
    main()
